import type { CommitInput, CommitOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { jobCall, repoSource, requireJobRepo, whileJobStopped } from './workspace.js';
import { withHeartbeat } from './heartbeat.js';

export function createCommitActivities(deps: ActivityContext) {
  return {
    /**
     * Commits the worktree on the job branch (parent: the job's base) with provenance trailers and pushes
     * exactly that commit to the origin. Nothing changed: no commit.
     */
    async commitChanges(input: CommitInput): Promise<CommitOutput> {
      const log = deps.jobLog(input.jobId);
      const repo = requireJobRepo(deps, input.jobId, input.worktree);
      const call = jobCall(input.jobId);
      return withHeartbeat(async () => {
        const commit = await whileJobStopped(deps, input.jobId, input.worktree, () =>
          deps.git.commitJob(
            {
              repo,
              branch: input.branch,
              base: input.baseCommit,
              ...(input.merged ? { merged: input.merged } : {}),
              message: input.message,
              trailers: { 'Drover-Job': input.jobId, 'Drover-Agent': input.agentKind, 'Drover-Base': input.baseCommit },
            },
            call,
          ),
        );
        if (!commit) {
          log({ source: 'git', text: 'no changes; nothing committed' });
          return { commit: null, files: [], filesTruncated: 0 };
        }
        // The lease: the origin's branch must still be where this worker's mirror last saw it (or absent).
        const expected = await deps.git.originBranch(deps.paths.mirror(input.repo), input.branch, call);
        const { url, local } = repoSource(deps, input.repo);
        await deps.git.pushCommit({ gitdir: repo.gitdir, url, local, branch: input.branch, sha: commit, expected }, call);
        const { files, truncated } = await deps.git.changedFiles(repo.gitdir, input.baseCommit, commit, call);
        log({ source: 'git', text: `committed ${commit} on ${input.branch} (${files.length + truncated} files)` });
        return { commit, files, filesTruncated: truncated };
      });
    },
  };
}
