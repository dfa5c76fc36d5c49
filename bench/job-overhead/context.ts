/** What a scenario gets: the environment, the options, the repositories, and where its figures go. */
import type { JobResult } from '../../src/shared/schemas.js';
import type { BenchEnvironment } from './environment.js';
import type { ScenarioResult } from './measure.js';
import { AGENT_COMMAND, type BenchOptions, EXPECTED_STATUS, type Mode, PROMPT } from './options.js';
import type { RepoFixture, RepoInfo } from './repos.js';
import { withTimeout } from './shared.js';

export interface BenchRun extends BenchEnvironment {
  opts: BenchOptions;
  repos: RepoInfo[];
  /** Every measured arm, in the order measured (the report's `results` and the table's rows). */
  results: ScenarioResult[];
  /** Figures of the scenarios that are not arms, by name (the report's `extras`). */
  extras: Record<string, unknown>;
  /** The last commit job that succeeded: its history is the one measured. */
  lastCommitJobId?: string;
}

/**
 * One scenario module. `repo` scenarios run once per generated repository, in list order; `run` scenarios
 * once, after every repository's.
 */
export type BenchScenario =
  | { name: string; scope: 'repo'; run: (bench: BenchRun, fixture: RepoFixture) => Promise<void> }
  | { name: string; scope: 'run'; run: (bench: BenchRun) => Promise<void> };

export async function submitAndWait(bench: BenchRun, repoPath: string, command: string): Promise<{ jobId: string; result: JobResult }> {
  const { jobId } = await bench.client.submit({ repo: repoPath, prompt: PROMPT, agent: { kind: 'command', command } });
  return { jobId, result: await withTimeout(bench.client.result(jobId), bench.opts.jobTimeoutMs, `job ${jobId}`) };
}

/** A Drover job in `mode` on `repo`; throws unless it ends as that mode should. */
export async function droverJob(bench: BenchRun, repo: RepoInfo, mode: Mode): Promise<JobResult> {
  const { jobId, result } = await submitAndWait(bench, repo.path, AGENT_COMMAND[mode]);
  if (result.status !== EXPECTED_STATUS[mode]) {
    throw new Error(
      `job ${jobId}: status ${result.status}, expected ${EXPECTED_STATUS[mode]}${result.failure ? ` (${result.failure.type}: ${result.failure.message})` : ''}`,
    );
  }
  if (mode === 'commit') bench.lastCommitJobId = jobId;
  return result;
}

/** The small repository, where the run-wide scenarios submit their jobs (the first one if it was not generated). */
export const smallRepo = (bench: BenchRun): RepoInfo => bench.repos.find((r) => r.kind === 'small') ?? bench.repos[0]!;
