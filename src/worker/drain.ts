/**
 * A graceful drain: stop taking new jobs, let the jobs held here finish, hand back the rest when time runs out.
 * Which jobs are held comes from Temporal (each job's status says which worker holds it), checked against the
 * job directories on this worker's disk; nothing is kept in memory that a restart would lose.
 */
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Worker } from '@temporalio/worker';
import type { DataPaths } from '../config/paths.js';
import type { HandBack } from './hand-back.js';
import type { JobWhereabouts } from './sweep.js';
import type { TemporalWorkers } from './temporal-workers.js';

export interface DrainDeps {
  workers: TemporalWorkers;
  paths: DataPaths;
  whereabouts: (jobId: string) => Promise<JobWhereabouts>;
  handBack: HandBack;
  say: (line: string) => void;
}

export interface DrainReport {
  /** Jobs that were still held here when the drain timeout ran out. */
  handedBack: string[];
  waitedMs: number;
}

const CHECK_EVERY_MS = 1_000;

export async function drain(deps: DrainDeps, timeoutMs: number, stopped: AbortSignal): Promise<DrainReport> {
  const started = Date.now();
  stopWorkers(deps.workers.landing);
  let held = await heldJobs(deps);
  if (held.length) deps.say(`draining: taking no new jobs; waiting up to ${Math.round(timeoutMs / 1000)} s for ${held.join(', ')}`);
  while (held.length && Date.now() - started < timeoutMs && !stopped.aborted) {
    await delay(CHECK_EVERY_MS);
    held = await heldJobs(deps);
  }
  if (held.length) {
    deps.say(`handing back ${held.length} job(s) to other workers: ${held.join(', ')}`);
    deps.handBack.start();
  }
  stopWorkers(deps.workers.staying);
  return { handedBack: held, waitedMs: Date.now() - started };
}

export function stopWorkers(workers: Worker[]): void {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
}

/** Jobs with a git dir here whose status names this worker (or cannot be read: then they count as held). */
async function heldJobs({ paths, whereabouts }: DrainDeps): Promise<string[]> {
  const ids = existsSync(paths.jobs()) ? readdirSync(paths.jobs()).filter((id) => existsSync(paths.jobGitDir(id))) : [];
  const where = await Promise.all(ids.map((id) => whereabouts(id).catch((): JobWhereabouts => 'unknown')));
  return ids.filter((_, i) => where[i] === 'here' || where[i] === 'unknown');
}
