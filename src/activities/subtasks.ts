/** The parent's side of subtasks on its host: the snapshot its children start from, and merging them back. */
import { subtaskBaseRef } from '../shared/ids.js';
import type { MergeSubtasksInput, MergeSubtasksOutput, SnapshotInput, SnapshotOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { fetchShared } from './workspace-steps.js';
import { jobCall, repoSource, requireJobRepo, whileJobStopped } from './workspace.js';

export function createSubtaskActivities(deps: ActivityContext) {
  return {
    snapshotForSubtasks: (input: SnapshotInput): Promise<SnapshotOutput> => snapshot(deps, input),
    mergeSubtasks: (input: MergeSubtasksInput): Promise<MergeSubtasksOutput> => merge(deps, input),
  };
}

async function snapshot(deps: ActivityContext, input: SnapshotInput): Promise<SnapshotOutput> {
  const repo = requireJobRepo(deps, input.jobId, input.worktree);
  const call = jobCall(input.jobId);
  const mirror = deps.paths.mirror(input.repo);
  return withHeartbeat(async () => {
    const out = await whileJobStopped(deps, input.jobId, input.worktree, () =>
      deps.git.snapshotWorktree({ repo, base: input.baseCommit, mirror, ref: subtaskBaseRef(input.jobId) }, call),
    );
    deps.jobLog(input.jobId)({ source: 'git', text: `subtasks start from ${out.commit}` });
    return { commit: out.commit };
  });
}

async function merge(deps: ActivityContext, input: MergeSubtasksInput): Promise<MergeSubtasksOutput> {
  const log = deps.jobLog(input.jobId);
  const repo = requireJobRepo(deps, input.jobId, input.worktree);
  const call = jobCall(input.jobId);
  return withHeartbeat(async () => {
    // The children committed in their own git directories and pushed: the mirror gets their commits from the origin.
    if (input.commits.length > 0) await fetchShared(deps, repoSource(deps, input.repo), deps.paths.mirror(input.repo), call, log);
    const out = await whileJobStopped(deps, input.jobId, input.worktree, () =>
      deps.git.mergeIntoWorktree({ repo, snapshot: input.snapshot, commits: input.commits }, call),
    );
    // The children are done with their base: the mirror keeps no ref to it (the job's git directory has it).
    await deps.git.deleteRef(deps.paths.mirror(input.repo), subtaskBaseRef(input.jobId), call).catch(() => undefined);
    log({
      source: 'git',
      text: `merged ${input.commits.length} subtask commit(s)${out.conflicts.length ? `; conflicts in ${out.conflicts.join(', ')}` : ''}`,
    });
    return out;
  });
}
