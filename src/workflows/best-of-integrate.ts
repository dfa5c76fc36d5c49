/**
 * Best of N with --integrate: the winner's commit, on the job's branch, goes through the merge queue like a
 * single job's. A send-back runs the winner's agent again, in this workflow, on the job's branch; a question
 * then is this job's own (answer the job, not an attempt).
 */
import { setHandler } from '@temporalio/workflow';
import type { JobInput, JobResult } from '../shared/schemas.js';
import { attempts, listenForAnswers } from './agent-job.js';
import type { BestOfState } from './best-of-state.js';
import { statusQuery } from './definitions.js';
import { integrateFinished } from './integrate-job.js';
import { JobState } from './job-state.js';

export async function integrateWinner(job: JobInput, attemptsState: BestOfState, won: JobResult, winner: JobInput): Promise<JobResult> {
  const asWinner: JobInput = { ...job, agent: winner.agent };
  const state = new JobState(asWinner, { has: () => true, inputByActivity: true, lean: true });
  state.runtime = won.runtime ?? null;
  state.defaults = won.defaults ?? null;
  state.baseCommit = won.baseCommit;
  state.revision = won.revisions;
  state.questions.push(...won.questions);
  listenForAnswers(asWinner, state);
  setHandler(statusQuery, () => ({ ...state.view(), attemptJobs: attemptsState.view().attemptJobs ?? [] }));
  return integrateFinished(asWinner, state, won, (start) => attempts(asWinner, state, start));
}
