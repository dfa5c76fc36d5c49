/**
 * Best of N: the job runs as parallel attempts, each an ordinary job (agentJobV2, id `<id>.<n>`, branch
 * `drover/<id>.<n>`, the job's validation and critic, its own worktree), and the winner's commit goes on
 * `drover/<id>`; the other attempts' branches stay. Cancelling the job cancels every attempt and waits for
 * their cleanup. A question of an attempt is the attempt's: `drover answer <id>.<n>` (or `<id>`, which the
 * client routes to the one attempt that asks).
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { attemptJobs, bestOfIdProblem } from '../shared/attempts.js';
import { failureTypeOf } from '../shared/errors.js';
import { branchFor, repoSlug } from '../shared/ids.js';
import type { AgentUsage, Candidate, JobInput, JobResult } from '../shared/schemas.js';
import { DroverAgent, DroverRepo } from '../shared/search-attributes.js';
import { type AttemptEnd, candidateOf, outcomeCounts } from '../shared/select-winner.js';
import { inputActivities } from './activity-proxies.js';
import { integrateWinner } from './best-of-integrate.js';
import { BestOfState } from './best-of-state.js';
import { type Choice, chooseWinner, publishWinner } from './best-of-select.js';
import { rootMessage, runChildJob } from './child-jobs.js';
import { statusQuery } from './definitions.js';

interface Finished {
  end: AttemptEnd;
  candidate: Candidate;
}

export async function bestOfJob(rawInput: unknown): Promise<JobResult> {
  const job = await parseJob(rawInput);
  const children = attemptJobs(job);
  const state = new BestOfState(job, children);
  setHandler(statusQuery, () => state.view());
  const attributes = [
    { key: DroverRepo, value: repoSlug(job.repo) },
    { key: DroverAgent, value: job.agent.kind },
  ];
  // The client sets them at start; a job started another way gets them here.
  const missing = attributes.filter((a) => workflowInfo().typedSearchAttributes.get(a.key) !== a.value);
  if (missing.length > 0) upsertSearchAttributes(missing);
  try {
    const finished = await runAttempts(job, children, state);
    state.enter('selecting');
    const candidates = finished.map((f) => f.candidate);
    const choice = await chooseWinner(job, candidates, baseCommitOf(finished) ?? job.base);
    const result = choice.winner === null ? noWinner(job, state, finished, choice) : await published(job, state, finished, choice);
    // The attempts ran without --integrate: the winner lands, from the job's branch.
    if (job.integrate && result.status === 'succeeded' && result.commit && choice.winner !== null) {
      return await integrateWinner(job, state, result, children[choice.winner]!);
    }
    state.enter(result.status);
    return result;
  } catch (err) {
    if (isCancellation(err)) state.enter('cancelled');
    throw err;
  }
}

/** Every attempt as a child workflow, in parallel; each one's end, in the order they were started. */
async function runAttempts(job: JobInput, children: JobInput[], state: BestOfState): Promise<Finished[]> {
  state.enter('running_attempts');
  let done = 0;
  const ends = await Promise.all(
    children.map(async (child, i) => {
      const end = await runAttempt(job, child);
      state.ended(i, 'result' in end ? end.result.status : end.status);
      done += 1;
      return { end, finished: done };
    }),
  );
  // A cancelled job waited for every attempt's cancellation (and so its cleanup) before it ends.
  if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('job cancelled');
  return ends.map(({ end, finished }, i) => ({ end, candidate: candidateOf(children[i]!.id, children[i]!.agent, end, finished) }));
}

function runAttempt(job: JobInput, child: JobInput): Promise<AttemptEnd> {
  const summary = `drover: attempt ${child.id.slice(job.id.length + 1)} of ${job.id} (${child.agent.kind})`;
  return runChildJob(job, child, 'attempt', summary);
}

/** The winner's result, its commit put on the job's branch, with every candidate listed. */
async function published(job: JobInput, state: BestOfState, finished: Finished[], choice: Choice): Promise<JobResult> {
  const index = choice.winner ?? 0;
  const { end, candidate } = finished[index]!;
  if (!('result' in end)) throw ApplicationFailure.create({ type: 'Unexpected', message: 'the winner has no result', nonRetryable: true });
  const extra = { ...listing(state, finished, choice), usage: totalUsage(finished) };
  try {
    await publishWinner(job, candidate);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const failure = { type: failureTypeOf(err) ?? 'Unexpected', message: rootMessage(err) };
    return { ...end.result, ...extra, status: 'failed', branch: branchFor(job.id), commit: null, failure };
  }
  return { ...end.result, ...extra, branch: branchFor(job.id) };
}

/** No attempt could win: no_changes when none changed anything, else failed. */
function noWinner(job: JobInput, state: BestOfState, finished: Finished[], choice: Choice): JobResult {
  const candidates = finished.map((f) => f.candidate);
  const unchanged = candidates.every((c) => c.status === 'no_changes');
  return {
    status: unchanged ? 'no_changes' : 'failed',
    branch: branchFor(job.id),
    commit: null,
    baseCommit: baseCommitOf(finished),
    files: [],
    filesTruncated: 0,
    validations: [],
    revisions: 0,
    questions: [],
    attempts: 1,
    ...listing(state, finished, choice),
    usage: totalUsage(finished),
    ...(unchanged
      ? {}
      : { failure: { type: 'NoWinner', message: `no attempt succeeded with every check passed (${outcomeCounts(candidates)})` } }),
  };
}

function listing(state: BestOfState, finished: Finished[], choice: Choice) {
  return {
    durationsMs: state.durationsMs,
    candidates: finished.map((f) => f.candidate),
    winner: choice.winner,
    selection: choice.selection,
  };
}

function baseCommitOf(finished: Finished[]): string | null {
  for (const { end } of finished) if ('result' in end && end.result.baseCommit) return end.result.baseCommit;
  return null;
}

function totalUsage(finished: Finished[]): AgentUsage {
  const total: AgentUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: null, turns: 0 };
  for (const { candidate: c } of finished) {
    if (!c.usage) continue;
    total.inputTokens += c.usage.inputTokens;
    total.outputTokens += c.usage.outputTokens;
    total.cachedInputTokens += c.usage.cachedInputTokens;
    total.turns += c.usage.turns;
    if (c.usage.costUsd !== null) total.costUsd = (total.costUsd ?? 0) + c.usage.costUsd;
  }
  return total;
}

/** The job, parsed by a local activity (as agentJobV2 does), and an id its attempts' ids fit after. */
async function parseJob(raw: unknown): Promise<JobInput> {
  let job: JobInput;
  try {
    job = await inputActivities.checkJobInput(raw);
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({ type: failureTypeOf(err) ?? 'Unexpected', message: rootMessage(err), nonRetryable: true });
  }
  const problem = bestOfIdProblem(job.id);
  if (problem) throw ApplicationFailure.create({ type: 'InvalidInput', message: `job id ${job.id}: ${problem}`, nonRetryable: true });
  return job;
}
