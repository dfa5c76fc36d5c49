import { Context } from '@temporalio/activity';
import { existsSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { checkLocalOwner, checkRepoAllowed, checkRuntimeEnv } from '../config/policy.js';
import type { GitCall, JobRepo } from '../git/git.js';
import { AppError } from '../shared/errors.js';
import { branchFor, jobIdProblem, processTag, subtaskBaseRef } from '../shared/ids.js';
import { isLocalRepo } from '../shared/repo-location.js';
import type { CleanupInput, PrepareWorkspaceInput, RuntimeSpec, Workspace } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { inSlot, requireDocker, resolveRuntime, runDirFor } from './placement.js';
import { LEGACY_DIR, makeRunDir } from './run-files.js';
import type { JobLog } from './job-log.js';
import { checkOut, fetchShared, includeFiles, jobDefaults, makeLegacyDir, mergeTarget } from './workspace-steps.js';

/** Never committed: the place agents used for run files before run directories. */
const EXCLUDE = [`/${LEGACY_DIR}/`];

export function createWorkspaceActivities(deps: ActivityContext) {
  return {
    prepareWorkspace: (input: PrepareWorkspaceInput): Promise<Workspace> => prepareWorkspace(deps, input),
    cleanupWorkspace: (input: CleanupInput): Promise<void> => cleanupWorkspace(deps, input),
  };
}

/**
 * Mirror (made once, then fetched), the job's git directory and a checkout of the resolved base. Whatever
 * it made is removed again when it fails or is cancelled. Idempotent.
 */
async function prepareWorkspace(deps: ActivityContext, input: PrepareWorkspaceInput): Promise<Workspace> {
  const log = deps.jobLog(input.jobId);
  checkRepoAllowed(input.repo, deps.policy);
  const runtime = resolveRuntime(deps, input.runtime);
  if (runtime.kind === 'docker') checkRuntimeEnv(runtime.env, deps.policy);
  const source = repoSource(deps, input.repo);
  const call = jobCall(input.jobId);
  const made: Made = { jobId: input.jobId, runtime };
  return withHeartbeat(async () => {
    try {
      return await makeWorkspace(deps, input, { source, call, made }, log);
    } catch (err) {
      await undoPrepare(deps, made).catch((e: Error) =>
        log({ source: 'drover', text: `could not remove what prepare made: ${e.message}` }),
      );
      throw err;
    }
  });
}

/** The work of prepareWorkspace, noting in `made` what undoPrepare has to remove. */
async function makeWorkspace(
  deps: ActivityContext,
  input: PrepareWorkspaceInput,
  { source, call, made }: { source: { url: string; local: boolean }; call: GitCall; made: Made },
  log: JobLog,
): Promise<Workspace> {
  const { runtime } = made;
  // A job in a container gets its worktree in the directory its container sees (a warm one if any).
  const slot = runtime.kind === 'docker' ? await requireDocker(deps).claim(input.jobId, runtime.image) : undefined;
  const worktree = slot ? join(slot.dir, input.jobId) : deps.paths.worktree(input.jobId);
  const repo: JobRepo = { gitdir: deps.paths.jobGitDir(input.jobId), worktree };
  const runDir = runDirFor(deps, input.jobId, worktree);
  Object.assign(made, { worktree, runDir });
  log({ source: 'drover', text: `preparing worktree on ${deps.workerId}` });
  const mirror = deps.paths.mirror(input.repo);
  mkdirSync(deps.paths.mirrors(), { recursive: true });
  const held = input.inMirror && !input.merge ? await heldCommit(deps, mirror, input.base, call) : undefined;
  if (!held) await fetchShared(deps, source, mirror, call, log);
  const baseCommit = held ?? (await deps.git.resolveBase(mirror, input.base, call));
  const merge = input.merge ? await mergeTarget(deps, { mirror, head: baseCommit, into: input.merge.into }, call, log) : undefined;
  const head = merge?.commit ?? baseCommit;
  const defaults =
    input.noDefaults || input.merge
      ? undefined
      : await jobDefaults(deps, { repo: input.repo, mirror, sha: baseCommit, runtime }, call, log);
  await removeJobFiles(deps, repo, runDir);
  const branch = branchFor(input.jobId);
  await checkOut(deps, { mirror, repo, branch, sha: head, exclude: EXCLUDE }, call, log);
  makeLegacyDir(worktree);
  if (input.include?.length) includeFiles(deps, source, repo, input.include, log);
  // A host agent gets a repository of its own to run git in; a container cannot see the mirror's objects.
  if (!slot) deps.git.createAgentRepo({ mirror, repo, branch, sha: head, exclude: EXCLUDE });
  makeRunDir(runDir, slot ? requireDocker(deps).agentUid : undefined);
  if (slot) requireDocker(deps).handToAgent(worktree);
  log({
    source: 'git',
    text: `worktree ${worktree} on ${branch} at ${baseCommit}${slot ? ` in container ${slot.container.slice(0, 12)} (${slot.image})` : ''}`,
  });
  return {
    hostQueue: deps.hostQueue,
    workerId: deps.workerId,
    worktree,
    branch,
    baseCommit,
    runtime,
    ...(defaults ? { defaults } : {}),
    ...(merge ? { merged: merge.target, conflicts: merge.conflicts } : {}),
  };
}

/** The commit `sha` if the mirror already has it, or undefined (no mirror yet, or not there). */
async function heldCommit(deps: ActivityContext, mirror: string, sha: string, call: GitCall): Promise<string | undefined> {
  if (!/^[0-9a-f]{40}$/i.test(sha) || !existsSync(mirror)) return undefined;
  return deps.git.resolveBase(mirror, sha, call).catch((err: unknown) => {
    if (err instanceof AppError && err.type === 'BaseRefNotFound') return undefined;
    throw err;
  });
}

async function cleanupWorkspace(deps: ActivityContext, input: CleanupInput): Promise<void> {
  checkWorktreePath(deps, input.jobId, input.worktree);
  await withHeartbeat(() => removeJob(deps, input.jobId, input.worktree));
  await dropSubtaskBase(deps, input.jobId, input.repo);
  deps.jobLog(input.jobId)({ source: 'drover', text: 'worktree removed' });
}

/** A git call for one of the job's activities: cancelled with it, its processes tagged as the job's. */
export function jobCall(jobId: string): GitCall {
  return { signal: Context.current().cancellationSignal, tag: processTag(jobId) };
}

/** The job's repository as the worker keeps it, or WorkspaceLost: without it the job must start over elsewhere. */
export function requireJobRepo(deps: ActivityContext, jobId: string, worktree: string): JobRepo {
  checkWorktreePath(deps, jobId, worktree);
  const gitdir = deps.paths.jobGitDir(jobId);
  const isDir = (p: string) => {
    try {
      return lstatSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  if (!isDir(worktree) || !existsSync(join(gitdir, 'HEAD'))) {
    throw new AppError('WorkspaceLost', `the worktree ${worktree} is gone from this worker; the job starts over`);
  }
  return { gitdir, worktree };
}

interface Made {
  jobId: string;
  runtime: RuntimeSpec;
  worktree?: string;
  runDir?: string;
}

async function undoPrepare(deps: ActivityContext, made: Made): Promise<void> {
  if (made.worktree) await removeJob(deps, made.jobId, made.worktree);
  else if (made.runtime.kind === 'docker') await requireDocker(deps).release(made.jobId);
}

/**
 * The base its subtasks started from, when merging their commits did not delete it (none had one, or the job
 * was cancelled meanwhile). Update-ref writes it loose, so a job that never split costs no git process.
 */
async function dropSubtaskBase(deps: ActivityContext, jobId: string, repo: string): Promise<void> {
  const mirror = deps.paths.mirror(repo);
  if (!existsSync(join(mirror, subtaskBaseRef(jobId)))) return;
  await deps.git.deleteRef(mirror, subtaskBaseRef(jobId), jobCall(jobId)).catch(() => undefined);
}

/** Stops the job's processes and container, and removes its worktree, git directory and run files. */
async function removeJob(deps: ActivityContext, jobId: string, worktree: string): Promise<void> {
  // The agent may still be running (a cancelled workflow does not wait for it): stop it, its checks and its
  // git before the worktree disappears under them. A container goes as a whole.
  const boxed = inSlot(deps, worktree);
  if (boxed) await requireDocker(deps).release(jobId);
  await deps.runtime.killTagged(processTag(jobId));
  await removeJobFiles(deps, { gitdir: deps.paths.jobGitDir(jobId), worktree }, runDirFor(deps, jobId, worktree));
  if (boxed) requireDocker(deps).removeSlotDir(worktree);
}

async function removeJobFiles(deps: ActivityContext, repo: JobRepo, runDir: string): Promise<void> {
  const paths = [repo.worktree, repo.gitdir, runDir];
  for (const path of paths) {
    // Paths come from the workflow's input: remove only what lies in this worker's data dir.
    if (!inside(deps.paths.root, path))
      throw new AppError('Unexpected', `refusing to remove ${path}: not in the data dir ${deps.paths.root}`);
  }
  // One removal for all that exist (a fresh prepare has none): each is a process started.
  const present = paths.filter(exists);
  if (present.length > 0) await deps.removeTree(...present);
}

/** Whether anything, a link included, is at the path. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `work` (the worker's git reading the worktree) while nothing of the job runs: tagged processes on the
 * host are stopped, a container's are stopped and the container frozen. A running process could otherwise
 * swap a file for a link to a host file under git.
 */
export async function whileJobStopped<T>(deps: ActivityContext, jobId: string, worktree: string, work: () => Promise<T>): Promise<T> {
  await deps.runtime.killTagged(processTag(jobId));
  return inSlot(deps, worktree) ? requireDocker(deps).frozen(jobId, work) : work();
}

/**
 * A worktree is where this worker makes them: `worktrees/<job>` or `docker-slots/<slot>/<job>`. The path comes
 * from the workflow; nothing else is ever run in, committed or removed.
 */
export function checkWorktreePath(deps: Pick<ActivityContext, 'paths'>, jobId: string, worktree: string): void {
  const ok = !jobIdProblem(jobId) && (worktree === deps.paths.worktree(jobId) || (inSlot(deps, worktree) && basename(worktree) === jobId));
  if (!ok) throw new AppError('InvalidInput', `${worktree} is not where this worker keeps the worktree of job ${jobId}`);
}

/**
 * Where git fetches from and pushes to. A local repository, by its real path (the one repos.allow was checked
 * against), must be the worker's own: not where jobs write (worktrees, slots, job directories, mirrors), and
 * owned by the worker's user (git runs the origin's hooks when it pushes there; a directory a container made
 * is not one). Checked again before every push.
 */
export function repoSource(deps: ActivityContext, repo: string): { url: string; local: boolean } {
  if (!isLocalRepo(repo)) return { url: repo, local: false };
  const given = resolve(repo.replace(/^file:\/\//i, ''));
  if (!existsSync(given)) throw new AppError('RepoNotFound', `repository path does not exist: ${given}`);
  const path = realpathSync(given);
  const p = deps.paths;
  for (const area of [p.worktrees(), p.dockerSlots(), p.jobs(), p.mirrors(), p.caches(), p.spares()].map(real)) {
    if (path === area || inside(area, path))
      throw new AppError('RepoNotAllowed', `repository ${path} is where this worker keeps jobs' files (${area})`);
  }
  checkLocalOwner(path);
  return { url: path, local: true };
}

const real = (path: string) => (existsSync(path) ? realpathSync(path) : resolve(path));

const inside = (root: string, path: string) => {
  const rel = relative(resolve(root), resolve(path));
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith('/');
};
