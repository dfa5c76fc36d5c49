/**
 * The merge queue of one repository and target branch: jobs' commits, in arrival order, each merged onto the
 * latest target, re-validated there with the job's own steps, and pushed with a lease (a target that moved
 * meanwhile is merged onto again, never overwritten). A conflict or a failed check goes back to the job.
 * Started by signal-with-start (temporal/integration-queue.ts); continues as new when its history grows.
 */
import {
  CancellationScope,
  isCancellation,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { IntegrationEntry, IntegrationOutcome, QueueEntryView, QueueView } from '../shared/schemas.js';
import { enqueueSignal, integrationSignal, queueQuery, withdrawSignal } from './definitions.js';
import { landEntry } from './land-entry.js';

/** The argument: a new queue has only its repository and target; continue-as-new carries the rest. */
export interface IntegrationArgs {
  repo: string;
  into: string;
  pending?: Queued[];
  recent?: QueueEntryView[];
}

interface Queued {
  entry: IntegrationEntry;
  view: QueueEntryView;
  /** Its job was cancelled while it ran: it is not pushed. */
  withdrawn?: boolean;
}

const RECENT_KEPT = 50;
/** Entries carry their steps (up to some KB each): a bounded queue keeps continue-as-new's input small. */
const PENDING_MAX = 200;
const IDLE_BEFORE_DONE = '24h';
const HISTORY_LIMIT = 5_000;

type Settled = Omit<IntegrationOutcome, 'status'> & { status: QueueEntryView['status'] };

export async function integrationWorkflow(args: IntegrationArgs): Promise<void> {
  const { repo, into } = args;
  const q = new MergeQueue(repo, into, args);
  setHandler(enqueueSignal, (entry) => q.add(entry));
  setHandler(withdrawSignal, (w) => q.withdraw(String(w?.jobId)));
  setHandler(queueQuery, () => q.view());
  q.show();
  try {
    await serve(q);
  } catch (err) {
    // A cancelled queue must not leave its jobs waiting for an outcome that never comes.
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => tellAll(q, 'the merge queue was cancelled'));
    throw err;
  }
}

async function serve(q: MergeQueue): Promise<void> {
  const { repo, into } = q;
  for (;;) {
    if (!(await condition(() => q.pending.length > 0 || q.refused.length > 0, IDLE_BEFORE_DONE))) return;
    for (const entry of q.refused.splice(0)) {
      if (entry.notify) await tellJob(outcomeOf(entry, 'failed', 'the merge queue is full; retry later'));
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT) {
      await continueAsNew<typeof integrationWorkflow>({ repo, into, pending: q.pending, recent: q.recent });
    }
    const current = q.next();
    if (!current) continue;
    const outcome = await landEntry(repo, into, current.entry, {
      progress: (step, tries) => {
        Object.assign(current.view, { step, tries });
        q.show();
      },
      withdrawn: () => current.withdrawn === true,
    });
    q.finish(current, outcome);
    if (current.entry.notify && !current.withdrawn) await tellJob(outcome);
    q.show();
  }
}

async function tellAll(q: MergeQueue, reason: string): Promise<void> {
  const waiting = [...(q.running ? [q.running] : []), ...q.pending].filter((e) => e.entry.notify && !e.withdrawn);
  for (const { entry } of waiting) await tellJob(outcomeOf(entry, 'failed', reason));
}

const outcomeOf = (e: IntegrationEntry, status: IntegrationOutcome['status'], reason: string): IntegrationOutcome => ({
  jobId: e.jobId,
  commit: e.commit,
  ticket: e.ticket,
  status,
  reason,
});

/** The queue's state: the query, the UI's current details and continue-as-new are views of it. */
class MergeQueue {
  readonly pending: Queued[];
  readonly recent: QueueEntryView[];
  running: Queued | null = null;
  /** Entries turned away (the queue was full): their jobs are told. */
  readonly refused: IntegrationEntry[] = [];

  constructor(
    readonly repo: string,
    readonly into: string,
    args: IntegrationArgs,
  ) {
    this.pending = [...(args.pending ?? [])];
    this.recent = [...(args.recent ?? [])];
  }

  /**
   * An entry already queued or running (a job's hand-off retried) is not queued twice. One that is not an
   * entry (a hand-made signal) is dropped: a throw here would fail every task of the queue.
   */
  add(entry: IntegrationEntry): void {
    const problem = entryProblem(entry);
    if (problem) {
      log.warn('ignored an enqueue signal', { problem });
      return;
    }
    const same = (q: Queued | null) => q?.entry.jobId === entry.jobId && q?.entry.commit === entry.commit;
    if (same(this.running) || this.pending.some(same)) {
      log.info('ignored an entry already queued', { jobId: entry.jobId });
      return;
    }
    if (this.pending.length >= PENDING_MAX) {
      const view: QueueEntryView = { jobId: entry.jobId, commit: entry.commit, status: 'queued', enqueuedAt: now() };
      this.settle(view, { ...entry, status: 'failed', reason: `the queue holds ${PENDING_MAX} entries; retry later` });
      this.refused.push(entry);
      return;
    }
    this.pending.push({ entry, view: { jobId: entry.jobId, commit: entry.commit, status: 'queued', enqueuedAt: now() } });
    this.show();
  }

  withdraw(jobId: string): void {
    const at = this.pending.findIndex((q) => q.entry.jobId === jobId);
    const gone = at >= 0 ? this.pending.splice(at, 1)[0] : undefined;
    if (gone)
      this.settle(gone.view, {
        jobId,
        commit: gone.entry.commit,
        ticket: gone.entry.ticket,
        status: 'skipped',
        reason: 'withdrawn: the job was cancelled',
      });
    if (this.running?.entry.jobId === jobId) this.running.withdrawn = true;
    this.show();
  }

  next(): Queued | null {
    this.running = this.pending.shift() ?? null;
    if (this.running) Object.assign(this.running.view, { status: 'running', startedAt: now() });
    this.show();
    return this.running;
  }

  finish(q: Queued, outcome: IntegrationOutcome): void {
    const withdrawn = q.withdrawn && outcome.status !== 'integrated';
    this.settle(q.view, withdrawn ? { ...outcome, status: 'skipped', reason: 'withdrawn: the job was cancelled' } : outcome);
    this.running = null;
  }

  view(): QueueView {
    const running = this.running ? [this.running.view] : [];
    return { repo: this.repo, into: this.into, entries: [...this.recent, ...running, ...this.pending.map((q) => q.view)] };
  }

  show(): void {
    setCurrentDetails(details(this));
  }

  private settle(view: QueueEntryView, outcome: Settled): void {
    view.status = outcome.status;
    view.finishedAt = now();
    delete view.step;
    if (outcome.integrated) view.integrated = outcome.integrated;
    const reason = outcome.conflicts?.length ? `conflicts in ${outcome.conflicts.join(', ')}` : outcome.reason;
    if (reason && outcome.status !== 'integrated') view.reason = reason.split('\n')[0]?.slice(0, 300);
    this.recent.push(view);
    if (this.recent.length > RECENT_KEPT) this.recent.splice(0, this.recent.length - RECENT_KEPT);
  }
}

/** A job that is gone (finished, cancelled, or integrated after the fact) cannot be told: the queue shows it. */
async function tellJob(outcome: IntegrationOutcome): Promise<void> {
  try {
    await getExternalWorkflowHandle(outcome.jobId).signal(integrationSignal, outcome);
  } catch (err) {
    log.warn('could not tell the job its integration outcome', { jobId: outcome.jobId, error: String(err) });
  }
}

const now = () => new Date().toISOString();

function details(q: MergeQueue): string {
  const row = (v: QueueEntryView) =>
    `| \`${v.jobId}\` | ${v.status}${v.step ? ` (${v.step})` : ''} | \`${v.commit.slice(0, 12)}\` | ${v.integrated ? `\`${v.integrated.slice(0, 12)}\`` : ''} | ${v.reason ?? ''} |`;
  const running = q.running ? [q.running.view] : [];
  const rows = [...q.recent.slice(-10), ...running, ...q.pending.slice(0, 20).map((p) => p.view)].map(row);
  return [
    `**Merge queue:** \`${q.repo}\` → \`${q.into}\``,
    `**Queued:** ${q.pending.length} · **Running:** ${q.running ? `\`${q.running.entry.jobId}\`` : 'none'}`,
    '',
    '| Job | Status | Commit | On target | Why |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** What makes a signal's payload not an entry; the enqueue activity and the CLI send only parsed ones. */
function entryProblem(e: IntegrationEntry | undefined): string | undefined {
  if (!e || typeof e !== 'object') return 'not an object';
  if (typeof e.jobId !== 'string' || e.jobId.length === 0 || e.jobId.length > 100) return 'jobId';
  if (typeof e.commit !== 'string' || !SHA.test(e.commit)) return 'commit';
  if (typeof e.ticket !== 'string' || e.ticket.length > 60) return 'ticket';
  if (e.mode !== 'rebase' && e.mode !== 'merge') return 'mode';
  if (typeof e.notify !== 'boolean') return 'notify';
  for (const key of ['setup', 'validate', 'cache'] as const) {
    if (!Array.isArray(e[key]) || e[key].length > 20) return key;
  }
  return undefined;
}
