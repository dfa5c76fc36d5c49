import { proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { durationMs } from '../shared/duration.js';
import type { CriticStep, JobInput, ValidationStep } from '../shared/schemas.js';

const QUICK_RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 };
const msToDuration = (ms: number): string => `${Math.ceil(ms / 1000)}s`;

/** Runs inside the workflow's first task, on the worker that runs it: no round trip through the server. */
export const inputActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
  summary: 'check the job input',
});

/**
 * prepareWorkspace runs on a queue shared by workers (the backend's queue, or the job queue for histories
 * from before backend queues): whichever worker takes it becomes the job's host. It has no schedule-to-start
 * timeout: with no worker for the backend, the job waits for one. A subtask's prepare goes to its parent's
 * host (`pinned`), and has one: that worker gone, the subtask's base is gone with it.
 */
export function sharedActivities(job: JobInput, taskQueue?: string, pinned = false) {
  return proxyActivities<Activities>({
    ...(taskQueue ? { taskQueue } : {}),
    ...(pinned ? { scheduleToStartTimeout: job.timeouts.workerPickup } : {}),
    startToCloseTimeout: '1h',
    heartbeatTimeout: job.timeouts.heartbeat,
    retry: QUICK_RETRY,
    summary: `prepare workspace for ${job.repo}@${job.base}`,
  });
}

/**
 * Everything after prepareWorkspace runs on the queue of the worker holding the worktree. The schedule-to-start
 * timeout is how the workflow learns that worker is gone (such a timeout is never retried by the server).
 */
export function hostActivities(job: JobInput, hostQueue: string, summary: string, extra: Partial<ActivityOptions> = {}) {
  return proxyActivities<Activities>({
    taskQueue: hostQueue,
    scheduleToStartTimeout: job.timeouts.workerPickup,
    startToCloseTimeout: '30m',
    heartbeatTimeout: job.timeouts.heartbeat,
    retry: QUICK_RETRY,
    summary,
    ...extra,
  });
}

export function agentOptions(job: JobInput): Partial<ActivityOptions> {
  return {
    startToCloseTimeout: msToDuration(durationMs(job.timeouts.agentHard) + 5 * 60_000),
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 3 },
  };
}

export function criticOptions(critic: CriticStep): Partial<ActivityOptions> {
  return { startToCloseTimeout: msToDuration(durationMs(critic.timeout) + 60_000), retry: { ...QUICK_RETRY, maximumAttempts: 3 } };
}

/** Setup's own steps, plus time to copy dependency caches in and out. */
export function setupOptions(steps: ValidationStep[]): Partial<ActivityOptions> {
  const total = steps.reduce((sum, s) => sum + durationMs(s.timeout), 0);
  return { startToCloseTimeout: msToDuration(total + 20 * 60_000), retry: { ...QUICK_RETRY, maximumAttempts: 3 } };
}

export function validationOptions(steps: ValidationStep[]): Partial<ActivityOptions> {
  const total = steps.reduce((sum, s) => sum + durationMs(s.timeout), 0);
  return { startToCloseTimeout: msToDuration(total + 5 * 60_000), retry: { ...QUICK_RETRY, maximumAttempts: 3 } };
}

/** The hand-off to the merge queue: a signal-with-start from the worker running the job's workflow. */
export const queueActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 },
  summary: 'hand the commit to the merge queue',
});
