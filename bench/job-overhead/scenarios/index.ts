/**
 * Every scenario, in the order they run. A new one is a module exporting a BenchScenario, and a line here;
 * repository scenarios run for each repository before any run-wide one. The run-wide scenarios' figures
 * appear in the report's `extras` in this order.
 */
import type { BenchScenario } from '../context.js';
import { cliTiming } from './cli-timing.js';
import { historyOfCommitJob } from './history-size.js';
import { jobsVsBaseline } from './jobs-vs-baseline.js';
import { prepareVsClone } from './prepare-vs-clone.js';
import { workerRss } from './worker-rss.js';

export const SCENARIOS: BenchScenario[] = [prepareVsClone, jobsVsBaseline, cliTiming, workerRss, historyOfCommitJob];
