/**
 * Subtasks: an agent's request for them runs each as a child job (agentJobV2, id `<id>.s<n>`) from a snapshot
 * of the parent's worktree, prepared on the parent's host. The parent waits for all of them, merges their
 * commits into its worktree and tells its agent how each went. Cancelling the parent cancels them.
 */
import { ApplicationFailure, CancellationScope, CancelledFailure } from '@temporalio/workflow';
import { branchFor } from '../shared/ids.js';
import type { JobInput, JobResult, MergeSubtasksOutput, SubtaskEntry, SubtaskRequest, Workspace } from '../shared/schemas.js';
import { jobPlan } from '../shared/job-plan.js';
import { agentRefusal, allottedBy, budgetShare, subtaskJobs, subtaskRefusal } from '../shared/subtasks.js';
import type { AttemptEnd } from '../shared/select-winner.js';
import { hostActivities } from './activity-proxies.js';
import { runChildJob } from './child-jobs.js';
import { spendOf } from './budget.js';
import type { JobState } from './job-state.js';

/** Requests a job may make, refused ones included: an agent that keeps asking is stuck. */
const MAX_REQUESTS = 10;
/** What the agent is told is clipped to this many characters, and lists this many conflicted files. */
const MAX_NOTE = 20_000;
const MAX_CONFLICTS_LISTED = 100;

/** Runs the requested subtasks, or refuses them; returns what the agent is told next. */
export async function runSubtasks(job: JobInput, state: JobState, ws: Workspace, reqs: SubtaskRequest[]): Promise<string> {
  state.subtaskRequests += 1;
  if (state.subtaskRequests > MAX_REQUESTS) {
    throw ApplicationFailure.create({
      type: 'AgentProtocolError',
      message: `the agent asked for subtasks more than ${MAX_REQUESTS} times`,
      nonRetryable: true,
    });
  }
  const started = state.subtasks.length;
  const refusal = subtaskRefusal(job, started, reqs.length, state.subtasksAllotted) ?? agentRefusal(job, reqs);
  if (refusal) return refusal;
  const host = hostActivities(job, ws.hostQueue, `snapshot the worktree for ${reqs.length} subtask(s)`);
  const { commit: snapshot } = await host.snapshotForSubtasks({
    jobId: job.id,
    repo: job.repo,
    worktree: ws.worktree,
    baseCommit: ws.baseCommit,
  });
  const plan = jobPlan(job, state.defaults ?? undefined);
  const budget = budgetShare(job.budget, spendOf(state), reqs.length);
  const allotted = state.subtasksAllotted;
  const children = subtaskJobs(job, reqs, { started, snapshot, host: ws.hostQueue, plan, allotted, budget });
  state.subtasksAllotted += allottedBy(children);
  const entries = children.map((c) => ({ id: c.id, title: c.subtaskOf?.title ?? c.id, status: 'running', branch: branchFor(c.id) }));
  state.subtasks.push(...entries);
  state.enter('running_subtasks');
  const ends = await Promise.all(
    children.map(async (child, i) => {
      const end = await runChild(job, child);
      entries[i]!.status = 'result' in end ? end.result.status : end.status;
      state.announce();
      return end;
    }),
  );
  // A cancelled parent waited for every child's cancellation (and so its cleanup) before it ends.
  if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('job cancelled');
  for (const end of ends) if ('result' in end && end.result.usage) state.addSpent(end.result.usage);
  const commits = ends.flatMap((e) => ('result' in e && e.result.status === 'succeeded' && e.result.commit ? [e.result.commit] : []));
  const merged =
    commits.length === 0
      ? { conflicts: [] }
      : await hostActivities(job, ws.hostQueue, `merge ${commits.length} subtask commit(s)`).mergeSubtasks({
          jobId: job.id,
          repo: job.repo,
          worktree: ws.worktree,
          snapshot,
          commits,
        });
  return summary(entries, ends, merged);
}

function runChild(job: JobInput, child: JobInput): Promise<AttemptEnd> {
  const summary = `drover: subtask ${child.id.slice(job.id.length + 1)} of ${job.id}: ${child.subtaskOf?.title ?? ''}`;
  return runChildJob(job, child, 'subtask', summary);
}

/** What the parent's agent is told: each child's status, files and checks, and what the merge left to resolve. */
function summary(entries: SubtaskEntry[], ends: AttemptEnd[], { conflicts, conflictsMore }: MergeSubtasksOutput): string {
  const lines = ['Your subtasks ran. Their changes are merged into your worktree:', ''];
  ends.forEach((end, i) => {
    const e = entries[i]!;
    lines.push(`- ${e.id} "${e.title}": ${e.status} (branch ${e.branch})`);
    if (!('result' in end)) {
      lines.push(`  failure: ${end.failure.type}: ${end.failure.message.slice(0, 500)}`);
      return;
    }
    const r = end.result;
    const files = r.files.map((f) => f.path);
    lines.push(
      `  files: ${files.length ? files.slice(0, 30).join(', ') : 'none'}${r.filesTruncated || files.length > 30 ? ' and more' : ''}`,
    );
    lines.push(`  validation: ${validationOf(r)}`);
    if (r.failure) lines.push(`  failure: ${r.failure.type}: ${r.failure.message.slice(0, 500)}`);
  });
  if (conflicts.length) {
    const n = conflicts.length - MAX_CONFLICTS_LISTED + (conflictsMore ?? 0);
    const more = n > 0 ? ` and ${n} more file(s)` : '';
    lines.push('', `Merging them left conflict markers in: ${conflicts.slice(0, MAX_CONFLICTS_LISTED).join(', ')}${more}. Resolve them.`);
  }
  lines.push('', 'Continue your task.');
  const note = lines.join('\n');
  return note.length > MAX_NOTE ? `${note.slice(0, MAX_NOTE)}\n…(clipped)\n\nContinue your task.` : note;
}

function validationOf(r: JobResult): string {
  const last = r.validations.at(-1);
  if (!last || last.checks.length === 0) return 'none';
  const failed = last.checks.filter((c) => !c.passed).map((c) => c.name);
  return failed.length ? `failed (${failed.join(', ')})` : `passed (${last.checks.map((c) => c.name).join(', ')})`;
}
