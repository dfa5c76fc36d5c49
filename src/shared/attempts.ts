/**
 * Best of N: a job's attempts as ordinary jobs of their own. Pure and workflow-safe (types only from the schemas).
 *
 * An attempt's id is `<id>.<n>` and its branch `drover/<id>.<n>`, not `drover/<id>/<n>`: git cannot hold
 * both `drover/<id>` (the winner's branch) and refs under it, since a ref cannot be a file and a directory.
 */
import { jobIdProblem } from './ids.js';
import type { AgentSpec, JobInput } from './schemas.js';

/** The longest job id with attempts: room for `.select` (and `.<n>`) after it. */
export const BEST_OF_ID_MAX = 93;

export const attemptJobId = (jobId: string, n: number): string => `${jobId}.${n}`;
/** The select command's workspace, apart from the attempts'. */
export const selectJobId = (jobId: string): string => `${jobId}.select`;

/** Whether the job runs as best of N: more than one attempt, or a list of agents. */
export function isBestOf(job: Pick<JobInput, 'attempts'>): boolean {
  const a = job.attempts;
  return a !== undefined && (typeof a === 'number' ? a > 1 : true);
}

/** The agent of each attempt, in order. */
export function attemptAgents(job: Pick<JobInput, 'attempts' | 'agent'>): AgentSpec[] {
  const a = job.attempts;
  if (a === undefined) return [job.agent];
  return typeof a === 'number' ? Array.from({ length: a }, () => job.agent) : a.agents;
}

/** Why the job's id cannot carry attempts, if it cannot. */
export function bestOfIdProblem(jobId: string): string | undefined {
  if (jobId.length > BEST_OF_ID_MAX) return `a job with attempts needs an id of at most ${BEST_OF_ID_MAX} characters`;
  return jobIdProblem(selectJobId(jobId));
}

/**
 * Each attempt's job: the job with its agent set, under the attempt's id, without attempts, select or
 * integration (only the winner is integrated), each with a share of its budget. Validation, critic, setup and
 * timeouts are the job's.
 */
export function attemptJobs(job: JobInput): JobInput[] {
  const { attempts: _attempts, select: _select, integrate: _integrate, ...rest } = job;
  const agents = attemptAgents(job);
  const budget = job.budget ? { budget: budgetShare(job.budget, agents.length) } : {};
  return agents.map((agent, i) => ({ ...rest, ...budget, id: attemptJobId(job.id, i + 1), agent, attemptOf: job.id }));
}

/** The attempts run side by side: each may spend its share of the job's budget, and all of its wall time. */
function budgetShare(b: NonNullable<JobInput['budget']>, n: number): NonNullable<JobInput['budget']> {
  return {
    ...b,
    ...(b.tokens !== undefined ? { tokens: Math.max(1, Math.floor(b.tokens / n)) } : {}),
    ...(b.usd !== undefined ? { usd: b.usd / n } : {}),
    ...(b.turns !== undefined ? { turns: Math.max(1, Math.floor(b.turns / n)) } : {}),
  };
}
