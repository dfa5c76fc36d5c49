import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { chownTree } from '../runtimes/docker/pool.js';
import * as git from '../git/git.js';
import { AppError } from '../shared/errors.js';
import { branchFor } from '../shared/ids.js';
import type { CleanupInput, PrepareWorkspaceInput, Workspace } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { requireDocker, resolveRuntime } from './placement.js';
import { openJobLog } from './job-log.js';

/** Agents talk to Drover through this directory in the worktree; it is never committed. */
export const DROVER_DIR = '.drover';

export function createWorkspaceActivities(deps: ActivityContext) {
  const { lockMirror } = deps;

  return {
    /** Mirror (clone once, then fetch) and a worktree on drover/<job> at the resolved base. Idempotent. */
    async prepareWorkspace(input: PrepareWorkspaceInput): Promise<Workspace> {
      const log = openJobLog(deps.paths.jobLog(input.jobId));
      const mirror = deps.paths.mirror(input.repo);
      const runtime = resolveRuntime(deps, input.runtime);
      // A job in a container gets its worktree in the directory its container sees (a warm one if any).
      const slot = runtime.kind === 'docker' ? await requireDocker(deps).claim(input.jobId, runtime.image) : undefined;
      const worktree = slot ? join(slot.dir, input.jobId) : deps.paths.worktree(input.jobId);
      const branch = branchFor(input.jobId);
      if (isLocalPath(input.repo) && !existsSync(input.repo)) {
        throw new AppError('RepoNotFound', `repository path does not exist: ${input.repo}`);
      }
      return withHeartbeat(() =>
        lockMirror(mirror, async () => {
          log({ source: 'drover', text: `preparing worktree on ${deps.workerId}` });
          await mkdir(dirname(mirror), { recursive: true });
          await git.syncMirror(input.repo, mirror, existsSync(mirror));
          await git.ensureExcluded(mirror, `/${DROVER_DIR}/`);
          const baseCommit = await git.resolveBase(mirror, input.base);
          if (existsSync(worktree)) {
            await git.removeWorktree(mirror, worktree);
            await rm(worktree, { recursive: true, force: true });
          }
          await mkdir(dirname(worktree), { recursive: true });
          await git.addWorktree(mirror, worktree, branch, baseCommit);
          if (slot) chownTree(worktree);
          log({ source: 'git', text: `worktree ${worktree} on ${branch} at ${baseCommit}${slot ? ` in container ${slot.container.slice(0, 12)} (${slot.image})` : ''}` });
          return { hostQueue: deps.hostQueue, workerId: deps.workerId, worktree, branch, baseCommit, runtime };
        }),
      );
    },

    async cleanupWorkspace(input: CleanupInput): Promise<void> {
      const mirror = deps.paths.mirror(input.repo);
      await withHeartbeat(() =>
        lockMirror(mirror, async () => {
          // The agent may still be running (a cancelled workflow does not wait for it): stop it before
          // its worktree disappears under it. A container goes as a whole.
          if (input.runtime?.kind === 'docker') await requireDocker(deps).release(input.jobId);
          else await deps.runtime.killTagged(processTag(input.jobId));
          if (existsSync(mirror)) await git.removeWorktree(mirror, input.worktree, branchFor(input.jobId));
          await rm(input.worktree, { recursive: true, force: true });
          if (input.runtime?.kind === 'docker') requireDocker(deps).removeSlotDir(input.worktree);
        }),
      );
      openJobLog(deps.paths.jobLog(input.jobId))({ source: 'drover', text: 'worktree removed' });
    },
  };
}

export const processTag = (jobId: string) => `drover-job:${jobId}`;

/** Every activity after prepareWorkspace needs the worktree; without it the job must start over elsewhere. */
export async function requireWorktree(worktree: string): Promise<void> {
  if (!(await git.isWorktree(worktree))) {
    throw new AppError('WorkspaceLost', `the worktree ${worktree} is gone from this worker; the job starts over`);
  }
}

function isLocalPath(repo: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) && !/^[^/]+@[^/]+:/.test(repo);
}
