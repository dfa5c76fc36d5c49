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
import type { Placement } from './sweep.js';
import type { TemporalWorkers } from './temporal-workers.js';

export interface DrainDeps {
  workers: TemporalWorkers;
  paths: DataPaths;
  placement: (jobId: string) => Promise<Placement>;
  handBack: HandBack;
  /** How long a stopping Temporal worker lets its activities run (the landing workers' prepares). */
  graceMs: number;
  say: (line: string) => void;
}

export interface DrainReport {
  /** Jobs that were still at work here when the drain timeout ran out. */
  handedBack: string[];
  /** Jobs waiting for a person: they go on elsewhere once answered (after their worker-pickup timeout). */
  waiting: string[];
  waitedMs: number;
}

const CHECK_EVERY_MS = 1_000;

export async function drain(deps: DrainDeps, timeoutMs: number, stopped: AbortSignal): Promise<DrainReport> {
  const started = Date.now();
  stopWorkers(deps.workers.landing);
  // A prepare that was under way when the landing workers stopped may still place a job here: wait for it.
  await untilStopped(deps.workers.landing, deps.graceMs + 5_000);
  let jobs = await jobsHere(deps);
  if (jobs.held.length) {
    deps.say(`draining: taking no new jobs; waiting up to ${Math.round(timeoutMs / 1000)} s for ${jobs.held.join(', ')}`);
  }
  while (jobs.held.length && Date.now() - started < timeoutMs && !stopped.aborted) {
    await delay(CHECK_EVERY_MS);
    jobs = await jobsHere(deps);
  }
  if (jobs.held.length) deps.say(`handing back ${jobs.held.length} job(s) to other workers: ${jobs.held.join(', ')}`);
  if (jobs.waiting.length) {
    deps.say(
      `leaving ${jobs.waiting.length} job(s) waiting for an answer; another worker takes each once answered: ${jobs.waiting.join(', ')}`,
    );
  }
  // From here on a cancelled activity is handed back, whatever the check above saw.
  deps.handBack.start();
  stopWorkers(deps.workers.staying);
  return { handedBack: jobs.held, waiting: jobs.waiting, waitedMs: Date.now() - started };
}

export function stopWorkers(workers: Worker[]): void {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
}

async function untilStopped(workers: Worker[], limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  while (workers.some((w) => !['STOPPED', 'FAILED'].includes(w.getState())) && Date.now() < until) await delay(100);
}

/**
 * Jobs with a git dir here whose status names this worker (or cannot be read: then they count as held). One
 * waiting for a person holds nothing that runs: waiting for its answer here could take days.
 */
async function jobsHere({ paths, placement }: DrainDeps): Promise<{ held: string[]; waiting: string[] }> {
  const ids = existsSync(paths.jobs()) ? readdirSync(paths.jobs()).filter((id) => existsSync(paths.jobGitDir(id))) : [];
  const placed = await Promise.all(ids.map((id) => placement(id).catch((): Placement => ({ where: 'unknown' }))));
  const here = ids.filter((_, i) => placed[i]!.where === 'here' || placed[i]!.where === 'unknown');
  const waiting = here.filter((id) => placed[ids.indexOf(id)]!.phase === 'waiting_for_human');
  return { held: here.filter((id) => !waiting.includes(id)), waiting };
}
