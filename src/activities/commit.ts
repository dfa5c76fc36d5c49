import * as git from '../git/git.js';
import type { CommitInput, CommitOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { requireWorktree } from './workspace.js';
import { withHeartbeat } from './heartbeat.js';
import { openJobLog } from './job-log.js';

export function createCommitActivities(deps: ActivityContext) {
  return {
    /** Commits with provenance trailers and publishes the branch to the origin. Nothing changed: no commit. */
    async commitChanges(input: CommitInput): Promise<CommitOutput> {
      const log = openJobLog(deps.paths.jobLog(input.jobId));
      await requireWorktree(input.worktree);
      const mirror = deps.paths.mirror(input.repo);
      return withHeartbeat(() => deps.lockMirror(mirror, async () => {
        const commit = await git.commitAll({
          worktree: input.worktree,
          base: input.baseCommit,
          message: input.message,
          trailers: { 'Drover-Job': input.jobId, 'Drover-Agent': input.agentKind, 'Drover-Base': input.baseCommit },
        });
        if (!commit) {
          log({ source: 'git', text: 'no changes; nothing committed' });
          return { commit: null, files: [], filesTruncated: 0 };
        }
        await git.pushBranch(mirror, input.branch);
        const { files, truncated } = await git.changedFiles(input.worktree, input.baseCommit, commit);
        log({ source: 'git', text: `committed ${commit} on ${input.branch} (${files.length + truncated} files)` });
        return { commit, files, filesTruncated: truncated };
      }));
    },
  };
}
