import { Context } from '@temporalio/activity';
import { existsSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { checkLocalOwner, checkRepoAllowed, checkRuntimeEnv, repoConfigTrusted } from '../config/policy.js';
import type { GitCall, JobRepo } from '../git/git.js';
import { AppError } from '../shared/errors.js';
import { branchFor, fetchTag, jobIdProblem, processTag } from '../shared/ids.js';
import { isLocalRepo } from '../shared/repo-location.js';
import type { CleanupInput, JobDefaults, PrepareWorkspaceInput, RuntimeSpec, Workspace } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { inSlot, requireDocker, resolveRuntime, runDirFor } from './placement.js';
import { LEGACY_DIR, makeRunDir } from './run-files.js';
import { copyIncluded, readRepoDefaults, REPO_FILE } from './repo-config.js';
import { mergeDefaults } from '../shared/job-plan.js';
import type { JobLog } from './job-log.js';

/** Never committed: the place agents used for run files before run directories. */
const EXCLUDE = [`/${LEGACY_DIR}/`];

export function createWorkspaceActivities(deps: ActivityContext) {
  return {
    /**
     * Mirror (made once, then fetched), the job's git directory and a checkout of the resolved base. Whatever
     * it made is removed again when it fails or is cancelled. Idempotent.
     */
    async prepareWorkspace(input: PrepareWorkspaceInput): Promise<Workspace> {
      const log = deps.jobLog(input.jobId);
      checkRepoAllowed(input.repo, deps.policy);
      const runtime = resolveRuntime(deps, input.runtime);
      if (runtime.kind === 'docker') checkRuntimeEnv(runtime.env, deps.policy);
      const source = repoSource(deps, input.repo);
      const call = jobCall(input.jobId);
      const made: Made = { jobId: input.jobId, runtime };
      return withHeartbeat(async () => {
        try {
          // A job in a container gets its worktree in the directory its container sees (a warm one if any).
          const slot = runtime.kind === 'docker' ? await requireDocker(deps).claim(input.jobId, runtime.image) : undefined;
          const worktree = slot ? join(slot.dir, input.jobId) : deps.paths.worktree(input.jobId);
          const repo: JobRepo = { gitdir: deps.paths.jobGitDir(input.jobId), worktree };
          const runDir = runDirFor(deps, input.jobId, worktree);
          Object.assign(made, { worktree, runDir });
          log({ source: 'drover', text: `preparing worktree on ${deps.workerId}` });
          const mirror = deps.paths.mirror(input.repo);
          mkdirSync(deps.paths.mirrors(), { recursive: true });
          await fetchShared(deps, source, mirror, call, log);
          const baseCommit = await deps.git.resolveBase(mirror, input.base, call);
          const defaults = await jobDefaults(deps, { repo: input.repo, mirror, sha: baseCommit, runtime }, call, log);
          await removeJobFiles(deps, repo, runDir);
          const branch = branchFor(input.jobId);
          await checkOut(deps, { mirror, repo, branch, sha: baseCommit, exclude: EXCLUDE }, call, log);
          makeLegacyDir(worktree);
          if (input.include?.length) includeFiles(deps, source, repo, input.include, log);
          // A host agent gets a repository of its own to run git in; a container cannot see the mirror's objects.
          if (!slot) deps.git.createAgentRepo({ mirror, repo, branch, sha: baseCommit, exclude: EXCLUDE });
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
          };
        } catch (err) {
          await undoPrepare(deps, made).catch((e: Error) =>
            log({ source: 'drover', text: `could not remove what prepare made: ${e.message}` }),
          );
          throw err;
        }
      });
    },

    async cleanupWorkspace(input: CleanupInput): Promise<void> {
      checkWorktreePath(deps, input.jobId, input.worktree);
      await withHeartbeat(() => removeJob(deps, input.jobId, input.worktree));
      deps.jobLog(input.jobId)({ source: 'drover', text: 'worktree removed' });
    },
  };
}

/**
 * The job's git directory and worktree at `sha`: from a spare checkout when the worker has one of this
 * repository (a rename, then only the files that differ), else a checkout of every file. Either way the next
 * job of a slow repository gets a spare made meanwhile.
 */
async function checkOut(
  deps: ActivityContext,
  req: { mirror: string; repo: JobRepo; branch: string; sha: string; exclude: string[] },
  call: GitCall,
  log: JobLog,
): Promise<void> {
  const spare = deps.spares.take(req.mirror);
  try {
    if (spare) {
      try {
        await deps.git.adoptSpare({ ...req, spareDir: spare.dir, spareSha: spare.sha }, call);
        log({ source: 'git', text: `checkout from a spare made ahead (at ${spare.sha.slice(0, 12)})` });
        return;
      } catch (err) {
        if (call.signal?.aborted) throw err;
        log({ source: 'git', text: `the spare checkout could not be used (${(err as Error).message}); checking out afresh` });
        await deps.removeTree(req.repo.worktree, req.repo.gitdir);
      }
    }
    const started = Date.now();
    await deps.git.createJobRepo(req, call);
    deps.spares.noteCheckout(req.mirror, Date.now() - started);
  } finally {
    if (spare) await deps.removeTree(spare.dir);
    deps.spares.replenish(req.mirror, req.sha);
  }
}

/**
 * Brings the mirror up to date with a fetch that started after this job asked, shared with the jobs that
 * asked meanwhile. The fetch carries the mirror's tag, not a job's: one job's cleanup must not kill the
 * others' fetch (it ends with its timeout, when every job waiting for it is cancelled, or at the next
 * worker start if this worker died).
 */
async function fetchShared(
  deps: ActivityContext,
  source: { url: string; local: boolean },
  mirror: string,
  call: GitCall,
  log: JobLog,
): Promise<void> {
  const key = `${mirror}\0${source.url}`;
  const run = await deps.fetchMirror(
    key,
    (signal) => deps.git.syncMirror(source.url, mirror, existsSync(mirror), source.local, { signal, tag: fetchTag(mirror) }),
    call.signal,
  );
  log({
    source: 'git',
    text: `fetched ${source.url} in ${run.endedAt - run.startedAt} ms${run.sharedBy > 1 ? ` (one fetch for ${run.sharedBy} jobs)` : ''}`,
    fetch: run,
  });
}

/**
 * The repository's .drover.yml over the worker's defaults; undefined when neither names anything. On the host
 * runtime a repository's steps would run as the worker, with its credentials: they are used only for
 * repositories in repos.trustConfig (its caches are used either way).
 */
async function jobDefaults(
  deps: ActivityContext,
  at: { repo: string; mirror: string; sha: string; runtime: RuntimeSpec },
  call: GitCall,
  log: JobLog,
): Promise<JobDefaults | undefined> {
  let repo = await readRepoDefaults(deps.git, at.mirror, at.sha, call);
  if (repo) log({ source: 'drover', text: `${REPO_FILE} names ${Object.keys(repo).join(', ') || 'nothing'}` });
  const steps = (['setup', 'validate', 'teardown'] as const).filter((k) => repo?.[k]?.length);
  if (repo && steps.length > 0 && at.runtime.kind === 'host' && !repoConfigTrusted(at.repo, deps.policy)) {
    log({
      source: 'drover',
      text: `${REPO_FILE}: ${steps.join(', ')} not used: on the host they would run with the worker's credentials (list the repository in repos.trustConfig, or use runtime docker)`,
    });
    repo = repo.cache ? { cache: repo.cache } : undefined;
  }
  const merged = mergeDefaults(repo, deps.defaults);
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/** Copies the ignored files a job asked for from its local repository's working tree; they are never committed. */
function includeFiles(
  deps: ActivityContext,
  source: { url: string; local: boolean },
  repo: JobRepo,
  patterns: string[],
  log: JobLog,
): void {
  if (!source.local)
    throw new AppError('InvalidInput', 'include works only with a local repository (it copies files from its working tree)');
  const { copied, skipped } = copyIncluded(source.url, repo.worktree, patterns);
  deps.git.excludeFromCommit(repo.gitdir, copied);
  log({
    source: 'drover',
    text: copied.length ? `included from ${source.url}: ${copied.join(', ')}` : `include matched no file in ${source.url}`,
  });
  if (skipped.length) log({ source: 'drover', text: `not included: ${skipped.join(', ')}` });
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

/** Agents that write .drover/question.json expect the directory; a repository's own .drover stays as it is. */
function makeLegacyDir(worktree: string): void {
  try {
    mkdirSync(join(worktree, LEGACY_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
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
