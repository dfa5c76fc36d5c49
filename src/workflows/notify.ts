/**
 * Job notifications, workflow side. Each event a notifier wants starts a small child workflow (notifyJob) that
 * delivers it with retries and outlives the job (ABANDON): a job that completes abandons its own pending
 * activities, and a terminal event must still arrive when the receiver is down for hours.
 *
 * A job with no notifier runs none of this: its history is the same as before notifications existed.
 */
import { CancellationScope, isCancellation, log, ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { branchFor, notifyQueueFor } from '../shared/ids.js';
import type { JobInput, JobResult, NotifyDelivery, NotifyEvent } from '../shared/schemas.js';
import type { JobState } from './job-state.js';

const MESSAGE_LIMIT = 500;
/** By name: the budget's failure type comes from its own change, and the event must not depend on the table. */
const BUDGET_EXCEEDED = 'BudgetExceeded';

/** Events of each kind so far, per job: the n in the child's id, which is stable on replay. */
const counts = new WeakMap<JobState, Map<NotifyEvent, number>>();

interface Details {
  status?: string;
  question?: string;
  commit?: string | null;
  failure?: { type: string; message: string };
}

/**
 * The job's own webhooks that want the event, or undefined when nobody does. The worker's subscriptions come
 * from checkJobInput's recorded result (agentJobV2); agentJobWorkflow parses in the sandbox and so honours
 * only the job's own webhooks.
 */
function wanted(job: JobInput, state: JobState, event: NotifyEvent): string[] | undefined {
  const hooks = (job.notify?.webhooks ?? []).filter((w) => w.events.includes(event)).map((w) => w.url);
  const worker = state.style.inputByActivity && (job.notify?.workerEvents ?? []).includes(event);
  return worker || hooks.length > 0 ? hooks : undefined;
}

/** Starts the event's delivery and waits only for its start; a failure to start is logged, never the job's. */
export async function notify(job: JobInput, state: JobState, event: NotifyEvent, details: Details = {}): Promise<void> {
  if (!job.notify) return;
  const jobWebhooks = wanted(job, state, event);
  if (!jobWebhooks) return;
  const seen = counts.get(state) ?? new Map<NotifyEvent, number>();
  counts.set(state, seen);
  const n = (seen.get(event) ?? 0) + 1;
  seen.set(event, n);
  const { failure, commit, question } = details;
  const delivery: NotifyDelivery = {
    payload: {
      event,
      jobId: job.id,
      status: details.status ?? event,
      ...(question ? { question: question.slice(0, 10_000) } : {}),
      branch: branchFor(job.id),
      ...(commit ? { commit } : {}),
      repo: job.repo,
      agent: job.agent.kind,
      ...(failure ? { failure: { type: failure.type.slice(0, 100), message: cut(failure.message) } } : {}),
      at: new Date().toISOString(),
    },
    jobWebhooks,
  };
  try {
    // Non-cancellable: the `cancelled` event is started by a job that is being cancelled.
    await CancellationScope.nonCancellable(() =>
      startChild(notifyJob, {
        workflowId: `${job.id}.notify-${event}-${n}`,
        taskQueue: workflowInfo().taskQueue,
        args: [delivery],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `drover: ${event} notification of ${job.id}`,
      }),
    );
  } catch (err) {
    log.warn('could not start a notification', { event, error: String((err as Error)?.message ?? err) });
  }
}

/** The job's end as its one terminal event: the result's status, or how its failure reads. */
export function notifyOutcome(job: JobInput, state: JobState, end: { result: JobResult } | { error: unknown }): Promise<void> {
  if (!job.notify) return Promise.resolve();
  if ('result' in end) {
    const { status, commit, failure } = end.result;
    const event: NotifyEvent = failure?.type === BUDGET_EXCEEDED ? 'budget_exceeded' : status;
    return notify(job, state, event, { status, commit, ...(failure ? { failure } : {}) });
  }
  if (isCancellation(end.error)) return notify(job, state, 'cancelled');
  const failure = failureOf(end.error);
  return notify(job, state, failure.type === BUDGET_EXCEEDED ? 'budget_exceeded' : 'failed', { status: 'failed', failure });
}

/** The first `type` in the cause chain, known to the error table or not, and the root cause's message. */
function failureOf(err: unknown): { type: string; message: string } {
  let type: string | undefined;
  let root = err as { type?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; root && depth < 10; depth++) {
    if (type === undefined && typeof root.type === 'string') type = root.type;
    if (!(root.cause instanceof Error)) break;
    root = root.cause as typeof root;
  }
  return { type: type ?? 'Unexpected', message: String(root?.message ?? err) };
}

const cut = (message: string) => (message.length > MESSAGE_LIMIT ? `${message.slice(0, MESSAGE_LIMIT - 3)}...` : message);

/**
 * One event's delivery, retried for up to a day on the notify queue, which every worker polls: a receiver
 * that is down gets it later, and a worker killed mid-delivery leaves the activity to time out and retry on
 * another. Each attempt sends the same X-Drover-Delivery (this workflow's id), so receivers can dedupe.
 */
export async function notifyJob(delivery: NotifyDelivery): Promise<void> {
  const { deliverNotification } = proxyActivities<Activities>({
    taskQueue: notifyQueueFor(workflowInfo().taskQueue),
    scheduleToCloseTimeout: '24h',
    // Commands are bounded at 4m and requests at 10s (src/activities/notify.ts); it heartbeats every 5s.
    startToCloseTimeout: '5m',
    heartbeatTimeout: '20s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['NotificationRejected'] },
    summary: `deliver ${delivery.payload.event} of ${delivery.payload.jobId}`,
  });
  await deliverNotification(delivery);
}
