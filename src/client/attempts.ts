/** Best of N in the client: which workflow a job starts, its attempts' status, and where an answer goes. */
import { isBestOf } from '../shared/attempts.js';
import { AppError } from '../shared/errors.js';
import type { JobInput, JobStatusView } from '../shared/schemas.js';

/** The workflow type of best-of-N jobs; a job with one attempt (or none named) runs agentJobV2. */
export const BEST_OF_WORKFLOW_TYPE = 'bestOfJob';

export const workflowTypeFor = (job: JobInput, single: string): string => (isBestOf(job) ? BEST_OF_WORKFLOW_TYPE : single);

/** One attempt of a best-of-N job as `drover status` shows it: its own job's phase and pending question. */
export interface AttemptView {
  jobId: string;
  agent: string;
  phase: string;
  pendingQuestion?: string;
}

/** Each attempt's own status (they are ordinary jobs); an attempt that cannot be read shows what the parent knows. */
export async function attemptViews(
  refs: NonNullable<JobStatusView['attemptJobs']>,
  status: (jobId: string) => Promise<{ phase: string; pendingQuestion?: string }>,
): Promise<AttemptView[]> {
  return Promise.all(
    refs.map(async (ref) => {
      const r = await status(ref.jobId).catch(() => undefined);
      return {
        jobId: ref.jobId,
        agent: ref.agent,
        phase: r?.phase ?? ref.status ?? 'unknown',
        ...(r?.pendingQuestion ? { pendingQuestion: r.pendingQuestion } : {}),
      };
    }),
  );
}

/** The attempt an answer to a best-of-N job goes to: the one attempt with a pending question. */
export function answerTarget(jobId: string, attempts: AttemptView[]): string {
  const asking = attempts.filter((a) => a.pendingQuestion);
  if (asking.length === 1) return asking[0]!.jobId;
  if (asking.length === 0) throw new AppError('InvalidInput', `no attempt of job ${jobId} has a pending question`);
  throw new AppError(
    'InvalidInput',
    `${asking.length} attempts of job ${jobId} are asking (${asking.map((a) => a.jobId).join(', ')}): answer one with drover answer <attempt> "<text>"`,
  );
}
