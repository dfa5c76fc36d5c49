/**
 * The job's side of its integration: hand the commit to the repository's merge queue, wait for the outcome,
 * and when it comes back (a conflict, or checks that fail on the latest target) run the agent again on the
 * job's own branch with the target merged in, as a revision. Once revisions are spent a person decides:
 * skip, retry, or guidance for one more run. Whatever happens here, the job's commit stays its result.
 */
import { ApplicationFailure, CancellationScope, condition, getExternalWorkflowHandle, isCancellation, log } from '@temporalio/workflow';
import { integrationIdFor } from '../shared/ids.js';
import { jobPlan } from '../shared/job-plan.js';
import type { IntegrationEntry, IntegrationOutcome, JobInput, JobIntegration, JobResult } from '../shared/schemas.js';
import { queueActivities } from './activity-proxies.js';
import { withdrawSignal } from './definitions.js';
import type { JobState } from './job-state.js';
import { askPerson } from './on-host.js';

/** Where a run of the job starts when its integration sent it back. */
export interface StartPoint {
  /** The job's commit: the new one goes on top of it, with the target as second parent. */
  base: string;
  into: string;
  feedback: string;
}

type Rerun = (start: StartPoint) => Promise<JobResult>;

/**
 * A queue that says nothing for this long is asked again: the hand-off is idempotent (an entry already
 * queued is ignored, one already landed is found by its trailers), and a queue that was terminated starts anew.
 */
const REASK_AFTER = '1h';

interface Landing {
  job: JobInput;
  state: JobState;
  into: string;
  first: JobResult;
  current: JobResult;
  sentBack: number;
}

export async function integrateFinished(job: JobInput, state: JobState, first: JobResult, rerun: Rerun): Promise<JobResult> {
  const l: Landing = { job, state, into: job.integrate?.into ?? '', first, current: first, sentBack: 0 };
  try {
    return await landLoop(l, rerun);
  } catch (err) {
    if (isCancellation(err)) throw err;
    // A person who never answered, or a rerun that broke: the job's last good commit is still its result.
    const reason = err instanceof ApplicationFailure ? `${err.type ?? 'Error'}: ${err.message}` : String(err);
    return finish(state, l.current, { into: l.into, status: 'failed', reason: brief(reason), sentBack: l.sentBack });
  }
}

async function landLoop(l: Landing, rerun: Rerun): Promise<JobResult> {
  const { state, into } = l;
  for (;;) {
    const outcome = await landOnce(l);
    if (outcome.status === 'integrated') {
      const commit = outcome.integrated ? { commit: outcome.integrated } : {};
      return finish(state, l.current, { into, status: 'integrated', sentBack: l.sentBack, ...commit });
    }
    if (outcome.status !== 'sent_back') {
      const reason = outcome.reason ?? 'the integration failed';
      const failed = { ...l.current, status: 'failed' as const, failure: { type: 'IntegrationFailed', message: reason } };
      return finish(state, failed, { into, status: 'failed', reason: brief(reason), sentBack: l.sentBack });
    }
    l.sentBack += 1;
    const why = sentBackReason(outcome);
    state.integration = { into, status: 'sent_back', reason: brief(why), sentBack: l.sentBack };
    const next = await sendBack(l, why);
    if (next === 'skip') return finish(state, l.current, { into, status: 'skipped', reason: brief(why), sentBack: l.sentBack });
    if (next === 'retry') continue;
    const revised = await rerun(next);
    if (revised.status === 'succeeded' && revised.commit) {
      l.current = { ...revised, baseCommit: l.first.baseCommit };
      continue;
    }
    // The agent could not finish it: the job's last good commit stays, and a person decides what now.
    const failure = revised.failure?.message ?? revised.status;
    const answer = await ask(l, `The agent's run on the sent-back branch ended ${revised.status}: ${failure}`);
    if (answer === 'skip') return finish(state, l.current, { into, status: 'skipped', reason: brief(failure), sentBack: l.sentBack });
    if (answer !== 'retry') {
      const again = await rerun({ base: l.current.commit ?? '', into, feedback: `${why}\n\nA person's guidance:\n${answer}` });
      if (again.status === 'succeeded' && again.commit) l.current = { ...again, baseCommit: l.first.baseCommit };
    }
  }
}

/** One trip through the queue: enqueued, then the integration workflow's signal for this ticket. */
async function landOnce(l: Landing): Promise<IntegrationOutcome> {
  const { job, state, into } = l;
  const entry = entryFor(job, state, l.current.commit ?? '', l.first.baseCommit);
  state.integration = { into, status: 'queued', sentBack: l.sentBack };
  state.integrationOutcome = null;
  state.enter('integrating');
  try {
    for (;;) {
      await queueActivities.enqueueIntegration({ repo: job.repo, into, entry });
      if (await condition(() => state.integrationOutcome?.ticket === entry.ticket, REASK_AFTER)) break;
    }
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => withdraw(job.repo, into, job.id));
    throw err;
  }
  return state.integrationOutcome as unknown as IntegrationOutcome;
}

/** A cancelled job's commit must not land after all. */
async function withdraw(repo: string, into: string, jobId: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(integrationIdFor(repo, into)).signal(withdrawSignal, { jobId });
  } catch (err) {
    log.warn('could not withdraw the commit from the merge queue', { error: String(err) });
  }
}

function entryFor(job: JobInput, state: JobState, commit: string, base: string | null): IntegrationEntry {
  const plan = jobPlan(job, state.defaults ?? undefined);
  state.tickets += 1;
  return {
    jobId: job.id,
    commit,
    ...(base ? { base } : {}),
    ticket: `${commit.slice(0, 12)}-${state.tickets}`,
    agentKind: job.agent.kind,
    mode: job.integrate?.mode ?? 'rebase',
    setup: plan.setup,
    validate: plan.validate,
    teardown: plan.teardown,
    cache: plan.cache,
    ...(state.runtime ? { runtime: state.runtime } : {}),
    ...(job.include?.length ? { include: job.include } : {}),
    notify: true,
    timeouts: { heartbeat: job.timeouts.heartbeat, workerPickup: job.timeouts.workerPickup },
  };
}

/** The next run's start, or what a person chose once the revisions are spent. */
async function sendBack(l: Landing, why: string): Promise<StartPoint | 'skip' | 'retry'> {
  const { job, state, into } = l;
  const base = l.current.commit ?? '';
  if (state.revision < job.maxRevisions) {
    state.revision += 1;
    return { base, into, feedback: why };
  }
  const answer = await ask(l, why);
  if (answer === 'skip' || answer === 'retry') return answer;
  state.revision += 1;
  return { base, into, feedback: `${why}\n\nA person's guidance:\n${answer}` };
}

/** skip, retry, or the person's guidance for the agent. */
async function ask(l: Landing, why: string): Promise<string> {
  const answer = await askPerson(
    l.job,
    l.state,
    `Integrating into ${l.into} failed and the agent's revisions are spent (${l.job.maxRevisions}). ${brief(why, 600)}\n` +
      'Answer "skip" (leave the branch as it is), "retry" (queue it again as it is), or guidance for one more agent run.',
  );
  const word = answer.trim().toLowerCase();
  return word === 'skip' || word === 'retry' ? word : answer;
}

function sentBackReason(outcome: IntegrationOutcome): string {
  const target = outcome.target ? ` (${outcome.target.slice(0, 12)})` : '';
  if (outcome.conflicts?.length) {
    return (
      `Landing this job's commit on the target${target} conflicts in: ${outcome.conflicts.join(', ')}. ` +
      'The worktree holds the job branch with the target merged in, and conflict markers (<<<<<<<, =======, >>>>>>>) ' +
      'in those files. Resolve every conflict, keeping the intent of both sides, and remove the markers.'
    );
  }
  return `After rebasing onto the latest target${target}, the checks failed. The worktree holds the job branch with the target merged in.\n\n${outcome.reason ?? ''}`;
}

function finish(state: JobState, result: JobResult, integration: JobIntegration): JobResult {
  state.integration = integration;
  state.enter(integration.status === 'integrated' ? 'integrated' : result.status);
  return { ...result, integration };
}

const brief = (text: string, max = 2_000) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);
