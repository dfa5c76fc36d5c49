/** The steps of prepareWorkspace: the mirror's fetch, the job's defaults, the checkout, the included files. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoConfigTrusted } from '../config/policy.js';
import type { GitCall, JobRepo } from '../git/git.js';
import { AppError } from '../shared/errors.js';
import { fetchTag } from '../shared/ids.js';
import { mergeDefaults } from '../shared/job-plan.js';
import type { JobDefaults, RuntimeSpec } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import type { JobLog } from './job-log.js';
import { copyIncluded, readRepoDefaults, REPO_FILE } from './repo-config.js';
import { LEGACY_DIR } from './run-files.js';

/**
 * The job's git directory and worktree at `sha`: from a spare checkout when the worker has one of this
 * repository (a rename, then only the files that differ), else a checkout of every file. Either way the next
 * job of a slow repository gets a spare made meanwhile.
 */
export async function checkOut(
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
export async function fetchShared(
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
export async function jobDefaults(
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
export function includeFiles(
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

/** Agents that write .drover/question.json expect the directory; a repository's own .drover stays as it is. */
export function makeLegacyDir(worktree: string): void {
  try {
    mkdirSync(join(worktree, LEGACY_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * The origin's `into` merged into `head` as a commit (conflict markers left in the files), for a job its
 * integration sent back. The commit is only the worktree's starting point: the job's own commit gets `head`
 * and the target as its parents.
 */
export async function mergeTarget(
  deps: ActivityContext,
  req: { mirror: string; head: string; into: string },
  call: GitCall,
  log: JobLog,
): Promise<{ commit: string; target: string; conflicts: string[] }> {
  const target = await deps.git.originBranch(req.mirror, req.into, call);
  if (!target) throw new AppError('BaseRefNotFound', `the origin has no branch ${req.into} to merge into the job`);
  const merged = await deps.git.mergeTrees(req.mirror, req.head, target, call);
  const { tree } = merged;
  // Names from the repository: bounded, for history and for the marker check's command line.
  const conflicts = merged.conflicts.slice(0, 50).map((f) => f.slice(0, 500));
  const message = `Merge ${req.into} (${target.slice(0, 12)}) for the job to finish${conflicts.length ? ': conflicts left' : ''}`;
  const commit = await deps.git.commitTree(req.mirror, { tree, parents: [req.head, target], message }, call);
  log({
    source: 'git',
    text: `merged ${req.into} at ${target}${conflicts.length ? `; conflicts in ${conflicts.join(', ')}` : ' cleanly'}`,
  });
  return { commit, target, conflicts };
}
