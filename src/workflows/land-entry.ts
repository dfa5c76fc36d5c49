/**
 * One job's commit through the merge queue: merged onto the latest target on some worker, re-validated in a
 * worktree on that worker, pushed with a lease. A target that moved meanwhile starts it over; a worker lost on
 * the way does too (the merge is in its mirror only, so nothing half-done is left on the target).
 */
import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { failureTypeOf } from '../shared/errors.js';
import { dockerQueueFor, integrationRunIdFor } from '../shared/ids.js';
import type { IntegrationEntry, IntegrationOutcome, MergeOutput, RuntimeSpec } from '../shared/schemas.js';
import { setupOptions, validationOptions } from './activity-proxies.js';
import { validationFeedback } from './feedback.js';
import { hostLost } from './host-lost.js';

/** A target that keeps moving under the queue (someone pushing all the time) fails the entry after this. */
const MAX_TRIES = 10;
/** Workers lost in the middle of one entry before it fails. */
const MAX_HOSTS_LOST = 5;
const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 };

export interface Watch {
  progress(step: string, tries: number): void;
  /** The job was cancelled meanwhile: stop before the push. */
  withdrawn(): boolean;
}

export async function landEntry(repo: string, into: string, entry: IntegrationEntry, watch: Watch): Promise<IntegrationOutcome> {
  const base = { jobId: entry.jobId, commit: entry.commit, ticket: entry.ticket };
  let lost = 0;
  for (let tries = 1; tries <= MAX_TRIES; ) {
    try {
      const outcome = await tryOnce(repo, into, entry, { ...watch, progress: (step) => watch.progress(step, tries) });
      if (outcome) return outcome;
      tries += 1;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The worker holding the merge went away: merge again on another one.
      if (!hostLost(err) || ++lost > MAX_HOSTS_LOST) return { ...base, status: 'failed', reason: rootMessage(err) };
    }
  }
  // Not the agent's doing: the job is not sent back, and `drover answer <job> retry` queues it again.
  return { ...base, status: 'failed', reason: `${into} moved under every one of ${MAX_TRIES} tries` };
}

/** The outcome, or undefined when the lease failed (the target moved) and the entry must be merged again. */
async function tryOnce(
  repo: string,
  into: string,
  entry: IntegrationEntry,
  watch: { progress(step: string): void; withdrawn(): boolean },
): Promise<IntegrationOutcome | undefined> {
  const base = { jobId: entry.jobId, commit: entry.commit, ticket: entry.ticket };
  const step = watch.progress;
  step('merging');
  const merged = await landing(entry)
    .mergeForIntegration({
      jobId: entry.jobId,
      repo,
      into,
      commit: entry.commit,
      mode: entry.mode,
      ...(entry.base ? { base: entry.base } : {}),
    })
    .catch((err) => {
      if (!hostLost(err)) throw err;
      const who = entry.runtime?.kind === 'docker' ? 'a worker with Docker' : 'a worker';
      throw ApplicationFailure.create({
        type: 'IntegrationFailed',
        message: `no worker took the merge within 30m (it needs ${who})`,
        nonRetryable: true,
      });
    });
  if (merged.status === 'already')
    return { ...base, status: 'integrated', integrated: merged.commit ?? merged.target, target: merged.target };
  if (merged.status === 'conflict') return { ...base, status: 'sent_back', target: merged.target, conflicts: merged.conflicts ?? [] };
  if (entry.setup.length + entry.validate.length + entry.cache.length > 0) {
    const failed = await validate(repo, into, entry, merged, step);
    if (failed) return { ...base, status: 'sent_back', target: merged.target, reason: failed };
  }
  if (watch.withdrawn()) return { ...base, status: 'failed', reason: 'withdrawn: the job was cancelled' };
  step('pushing');
  const pushed = await onHost(entry, merged, 'push the target with a lease').pushIntegration({
    jobId: entry.jobId,
    repo,
    into,
    commit: merged.commit ?? '',
    expected: merged.target,
  });
  return pushed ? { ...base, status: 'integrated', integrated: merged.commit, target: merged.target } : undefined;
}

/** Setup and validation of the merged commit in a worktree of its own; the failure as feedback for the agent. */
async function validate(
  repo: string,
  into: string,
  entry: IntegrationEntry,
  merged: MergeOutput,
  step: (s: string) => void,
): Promise<string | undefined> {
  const jobId = integrationRunIdFor(entry.jobId, into);
  step('checking out');
  const ws = await onHost(entry, merged, `check out ${merged.commit?.slice(0, 12)} for validation`).prepareWorkspace({
    jobId,
    repo,
    base: merged.commit ?? '',
    noDefaults: true,
    ...(entry.runtime ? { runtime: entry.runtime } : {}),
    ...(entry.include?.length ? { include: entry.include } : {}),
  });
  const where = { jobId, worktree: ws.worktree, ...(ws.runtime ? { runtime: ws.runtime } : {}) };
  try {
    if (entry.setup.length + entry.cache.length > 0) {
      step('setting up');
      const out = await onHost(entry, merged, 'setup on the merged commit', setupOptions(entry.setup)).runSetup({
        ...where,
        repo,
        baseCommit: ws.baseCommit,
        steps: entry.setup,
        cache: entry.cache,
        restoreOnly: true,
      });
      const bad = out.checks.find((c) => !c.passed);
      if (bad) return `setup step "${bad.name}" failed on the merged commit:\n${bad.outputTail.trim().split('\n').slice(-15).join('\n')}`;
    }
    if (entry.validate.length === 0) return undefined;
    step('validating');
    const summary = `validate (${entry.validate.map((s) => s.name).join(', ')}) on the merged commit`;
    const checks = await onHost(entry, merged, summary, validationOptions(entry.validate)).runValidations({
      ...where,
      steps: entry.validate,
    });
    const failed = checks.filter((c) => !c.passed);
    return failed.length > 0 ? validationFeedback(failed) : undefined;
  } finally {
    await CancellationScope.nonCancellable(() => tearDown(entry, merged, where, repo));
  }
}

/** Teardown (best effort, like the job's) and the worktree's removal, whatever happened before. */
async function tearDown(
  entry: IntegrationEntry,
  merged: MergeOutput,
  where: { jobId: string; worktree: string; runtime?: RuntimeSpec },
  repo: string,
) {
  const teardown = entry.teardown ?? [];
  if (teardown.length > 0) {
    await onHost(entry, merged, 'teardown on the merged commit', validationOptions(teardown))
      .runTeardown({ ...where, steps: teardown })
      .catch(() => undefined);
  }
  await onHost(entry, merged, 'remove the validation worktree')
    .cleanupWorkspace({ ...where, repo })
    .catch(() => undefined);
}

/** The merge lands on any worker that could run the job's checks: with Docker for a container job. */
function landing(entry: IntegrationEntry) {
  const queue = workflowInfo().taskQueue;
  return proxyActivities<Activities>({
    taskQueue: entry.runtime?.kind === 'docker' ? dockerQueueFor(queue) : queue,
    // No worker that could run the job's checks (none with Docker) must not hold the whole queue forever.
    scheduleToStartTimeout: '30m',
    startToCloseTimeout: '30m',
    heartbeatTimeout: entry.timeouts?.heartbeat ?? '30s',
    retry: RETRY,
    summary: `merge ${entry.jobId} (${entry.commit.slice(0, 12)}) onto the latest target`,
  });
}

/** Everything after the merge runs where the merged commit is: that worker's mirror. */
function onHost(
  entry: IntegrationEntry,
  merged: MergeOutput,
  summary: string,
  extra: { startToCloseTimeout?: string; retry?: object } = {},
) {
  return proxyActivities<Activities>({
    taskQueue: merged.hostQueue,
    scheduleToStartTimeout: entry.timeouts?.workerPickup ?? '5m',
    startToCloseTimeout: '30m',
    heartbeatTimeout: entry.timeouts?.heartbeat ?? '30s',
    retry: RETRY,
    summary,
    ...extra,
  });
}

function rootMessage(err: unknown): string {
  let root = err as Error | undefined;
  while (root?.cause instanceof Error) root = root.cause;
  const type = failureTypeOf(err) ?? (err instanceof ApplicationFailure ? err.type : undefined);
  return `${type ? `${type}: ` : ''}${root?.message ?? String(err)}`.slice(0, 2_000);
}
