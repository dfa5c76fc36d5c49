/**
 * One page of a job's log, read on the worker whose data dir has it: `drover logs` on another machine cannot
 * call an activity itself, so it starts this short workflow on the shared queue and waits for its result.
 *
 * The page passes through this workflow's history (the activity's result and the workflow's): it is the
 * same lines `drover logs` prints, redacted by the worker when they were written, and at most a page
 * (LOG_PAGE_MAX_BYTES, about twice that as JSON).
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { LOG_PAGE_TIMEOUTS } from '../shared/log-page.js';
import type { LogPage, ReadJobLogInput } from '../shared/schemas.js';

export async function readJobLog(input: ReadJobLogInput): Promise<LogPage> {
  // The activity checks the rest; without a queue there is nowhere to send it (and a TypeError here would
  // fail the workflow task again and again instead of the workflow).
  if (typeof input?.hostQueue !== 'string' || input.hostQueue === '') {
    throw ApplicationFailure.create({ type: 'InvalidInput', message: 'readJobLog needs a hostQueue', nonRetryable: true });
  }
  const { hostQueue, ...page } = input;
  const acts = proxyActivities<Activities>({
    taskQueue: hostQueue,
    // A worker that is gone shows as this timeout, which the server never retries; the CLI says so.
    scheduleToStartTimeout: LOG_PAGE_TIMEOUTS.scheduleToStart,
    startToCloseTimeout: LOG_PAGE_TIMEOUTS.startToClose,
    // The person waiting runs the command again; a retry would only make them wait longer for the failure.
    retry: { maximumAttempts: 1 },
    summary: `read the log of ${page.jobId} from byte ${page.offset}`,
  });
  return acts.readJobLogPage(page);
}
