/**
 * Choosing a best-of-N job's winner and putting its commit on the job's branch. The job's select command is
 * untrusted: it runs like a check, in the job's runtime, in a workspace of its own (`<job>.select`, a checkout
 * of the base) on a worker, and a select that fails or names no candidate that can win leaves it to the rule.
 */
import { CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { selectJobId } from '../shared/attempts.js';
import { backendQueueFor, branchFor, dockerQueueFor } from '../shared/ids.js';
import type { Candidate, JobInput, Selection } from '../shared/schemas.js';
import { canWin, pickWinner } from '../shared/select-winner.js';
import { criticOptions, hostActivities, sharedActivities } from './activity-proxies.js';
import { rootMessage } from './child-jobs.js';

export interface Choice {
  winner: number | null;
  selection: Selection;
}

/** The rule's winner, or the select command's when the job has one and more than one candidate can win. */
export async function chooseWinner(job: JobInput, candidates: Candidate[], baseCommit: string): Promise<Choice> {
  const rule = pickWinner(candidates);
  const eligible = candidates.filter(canWin);
  if (!job.select || rule === null || eligible.length < 2) return { winner: rule, selection: { by: 'rule' } };
  try {
    const chosen = await runSelect(job, candidates, baseCommit, eligible[0]?.agent ?? job.agent.kind);
    if ('index' in chosen) {
      const c = candidates[chosen.index];
      if (c && canWin(c)) return { winner: chosen.index, selection: { by: 'select' } };
      return {
        winner: rule,
        selection: { by: 'rule', note: `the select command chose ${chosen.index}, which cannot win; the rule chose` },
      };
    }
    return { winner: rule, selection: { by: 'rule', note: `${chosen.problem}; the rule chose` } };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { winner: rule, selection: { by: 'rule', note: `the select command could not run (${rootMessage(err)}); the rule chose` } };
  }
}

/**
 * A queue some worker polls: the backend's of an attempt that ran (or Docker's, for a job in a container).
 * Any worker there can run the select command and push.
 */
export function workQueue(job: JobInput, agentKind: string): string {
  const base = workflowInfo().taskQueue;
  return job.runtime?.kind === 'docker' ? dockerQueueFor(base) : backendQueueFor(base, agentKind);
}

async function runSelect(job: JobInput, candidates: Candidate[], baseCommit: string, agentKind: string) {
  const select = job.select!;
  const jobId = selectJobId(job.id);
  const ws = await sharedActivities(job, workQueue(job, agentKind)).prepareWorkspace({
    jobId,
    repo: job.repo,
    base: baseCommit,
    ...(job.runtime ? { runtime: job.runtime } : {}),
  });
  try {
    return await hostActivities(job, ws.hostQueue, 'select the winner', criticOptions(select)).runSelect({
      jobId,
      parentId: job.id,
      worktree: ws.worktree,
      select,
      candidates,
      ...(ws.runtime ? { runtime: ws.runtime } : {}),
    });
  } finally {
    // Non-cancellable so the select's workspace is removed even when the job is cancelled.
    await CancellationScope.nonCancellable(() =>
      hostActivities(job, ws.hostQueue, 'remove the select workspace')
        .cleanupWorkspace({ jobId, repo: job.repo, worktree: ws.worktree, ...(ws.runtime ? { runtime: ws.runtime } : {}) })
        .catch(() => undefined),
    );
  }
}

/** The winner's commit on `drover/<job>` in the origin; the attempts' own branches stay. */
export async function publishWinner(job: JobInput, winner: Candidate): Promise<void> {
  const acts = proxyActivities<Activities>({
    taskQueue: workQueue(job, winner.agent),
    startToCloseTimeout: '10m',
    heartbeatTimeout: job.timeouts.heartbeat,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
    summary: `put the winner ${winner.jobId} on ${branchFor(job.id)}`,
  });
  await acts.publishWinner({ jobId: job.id, repo: job.repo, branch: branchFor(job.id), commit: winner.commit ?? '' });
}
