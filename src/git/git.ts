/** Every git operation Drover performs. The only module that imports simple-git. */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { AppError } from '../shared/errors.js';
import type { FileChange } from '../shared/schemas.js';

const DROVER_IDENTITY = { name: 'Drover', email: 'drover@localhost' };
const MAX_FILES = 200;

/**
 * The worker's own GIT_* variables (GIT_SSH_COMMAND, GIT_ASKPASS, GIT_CONFIG_*) are trusted settings for
 * reaching private repositories; simple-git strips them unless allowed.
 */
const WORKER_GIT_ENV = Object.keys(process.env).filter((k) => /^git_/i.test(k));

function git(dir: string): SimpleGit {
  // safe.directory: worktrees of container jobs belong to the container's user, not to the worker.
  return simpleGit({ baseDir: dir, binary: 'git', maxConcurrentProcesses: 4, trimmed: true, allowEnvironment: WORKER_GIT_ENV, config: ['safe.directory=*'] });
}

const gitFailed = (what: string, err: unknown) =>
  new AppError('GitFailed', `${what}: ${firstLine(err)}`, { cause: err });
const firstLine = (err: unknown) => String((err as Error)?.message ?? err).trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';

/** A bare mirror of the origin: cloned once, then fetched. Origin branches live under refs/remotes/origin. */
export async function syncMirror(repo: string, mirror: string, exists: boolean): Promise<void> {
  if (!exists) {
    // Cloned and configured under a temporary name, so a crash never leaves a half-made mirror behind.
    const staging = `${mirror}.tmp-${process.pid}-${Date.now()}`;
    try {
      await git('/').raw(['clone', '--bare', '--quiet', '--', repo, staging]);
      const m = git(staging);
      await m.raw(['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*']);
      await m.raw(['config', '--add', 'remote.origin.fetch', '+refs/tags/*:refs/tags/*']);
      await rename(staging, mirror);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      const msg = String((err as Error).message);
      if (/does not appear to be a git repository|not found|does not exist|Could not read from remote/i.test(msg)) {
        throw new AppError('RepoNotFound', `cannot clone ${repo}: ${firstLine(err)}`, { cause: err });
      }
      throw gitFailed(`clone ${repo}`, err);
    }
  }
  try {
    await git(mirror).raw(['fetch', '--quiet', '--prune', 'origin', '+HEAD:refs/drover/origin-head']);
    await git(mirror).raw(['fetch', '--quiet', '--prune', 'origin']);
  } catch (err) {
    throw gitFailed(`fetch ${repo}`, err);
  }
}

/** Resolves a base ref the way a user means it: origin's HEAD, an origin branch, a tag, or a commit. */
export async function resolveBase(mirror: string, base: string): Promise<string> {
  // A bare commit id is the last reading; a plain name must be an origin branch or a tag, never a stale
  // local branch of the mirror.
  const named = base === 'HEAD' ? ['refs/drover/origin-head'] : [`refs/remotes/origin/${base.replace(/^origin\//, '')}`, `refs/tags/${base}`];
  const candidates = /^[0-9a-f]{7,40}$/i.test(base) ? [...named, base] : named;
  for (const ref of candidates) {
    try {
      const sha = await git(mirror).raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
      if (sha) return sha.trim();
    } catch {
      // try the next reading
    }
  }
  throw new AppError('BaseRefNotFound', `base ref ${JSON.stringify(base)} not found in the repository`);
}

/** Keeps a path out of every worktree's commits (worktrees share the mirror's info/exclude). */
export async function ensureExcluded(mirror: string, pattern: string): Promise<void> {
  const file = join(mirror, 'info', 'exclude');
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current.split('\n').includes(pattern)) return;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${current.replace(/\n?$/, '\n')}${pattern}\n`.replace(/^\n/, ''));
}

export async function addWorktree(mirror: string, worktree: string, branch: string, sha: string): Promise<void> {
  try {
    await git(mirror).raw(['worktree', 'prune']);
    await git(mirror).raw(['worktree', 'add', '--quiet', '--force', '-B', branch, worktree, sha]);
  } catch (err) {
    throw gitFailed(`create worktree for ${branch}`, err);
  }
}

export async function removeWorktree(mirror: string, worktree: string, branch?: string): Promise<void> {
  await git(mirror).raw(['worktree', 'remove', '--force', worktree]).catch(() => undefined);
  await git(mirror).raw(['worktree', 'prune']);
  // The branch lives on in the origin; the mirror's copy would only pile up.
  if (branch) await git(mirror).raw(['branch', '-D', branch]).catch(() => undefined);
}

/** The worktree's changes since base, staged, as a unified diff (for the critic). .drover/ is excluded by info/exclude. */
export async function stagedDiff(worktree: string, base: string): Promise<string> {
  const g = git(worktree);
  await g.raw(['add', '-A']);
  return g.raw(['diff', '--cached', base]);
}

export interface CommitRequest {
  worktree: string;
  base: string;
  message: string;
  trailers: Record<string, string>;
}

/**
 * Commits everything the agent changed. Idempotent: if HEAD is already this job's commit (a retry after the
 * commit succeeded), it is returned as is. Returns null when nothing changed.
 */
export async function commitAll(req: CommitRequest): Promise<string | null> {
  const g = git(req.worktree);
  const head = (await g.revparse(['HEAD'])).trim();
  if (head !== req.base) {
    const body = await g.raw(['log', '-1', '--format=%B', head]);
    const marker = Object.entries(req.trailers)[0];
    if (marker && body.includes(`${marker[0]}: ${marker[1]}`)) return head;
    // The agent committed on its own: fold its commits and any uncommitted work into the one job commit.
    await g.raw(['reset', '--soft', req.base]);
  }
  await g.raw(['add', '-A']);
  const staged = await g.raw(['diff', '--cached', '--name-only', req.base]);
  if (staged.trim() === '') return null;
  const trailerArgs = Object.entries(req.trailers).flatMap(([k, v]) => ['--trailer', `${k}: ${v}`]);
  try {
    await g.raw([...(await identityArgs(req.worktree)), 'commit', '--quiet', '--no-verify', '-m', req.message, ...trailerArgs]);
  } catch (err) {
    throw gitFailed('commit', err);
  }
  return (await g.revparse(['HEAD'])).trim();
}

/** Commits as the configured git user, or as Drover when the worker has none. */
async function identityArgs(dir: string): Promise<string[]> {
  const email = await git(dir).raw(['config', 'user.email']).catch(() => '');
  if (email.trim()) return [];
  return ['-c', `user.name=${DROVER_IDENTITY.name}`, '-c', `user.email=${DROVER_IDENTITY.email}`];
}

export async function changedFiles(worktree: string, base: string, commit: string): Promise<{ files: FileChange[]; truncated: number }> {
  const out = await git(worktree).raw(['diff', '--numstat', '-z', '--no-renames', base, commit]);
  const files = out
    .split('\0')
    .filter(Boolean)
    .map((entry) => {
      const [added, deleted, ...rest] = entry.split('\t');
      const num = (n: string | undefined) => (n === undefined || n === '-' ? null : Number(n));
      return { path: rest.join('\t'), added: num(added), deleted: num(deleted) };
    });
  return { files: files.slice(0, MAX_FILES), truncated: Math.max(0, files.length - MAX_FILES) };
}

/** Publishes the job branch to the origin (for a local path, the repository itself). */
export async function pushBranch(mirror: string, branch: string): Promise<void> {
  try {
    await git(mirror).raw(['push', '--quiet', '--force', 'origin', `refs/heads/${branch}:refs/heads/${branch}`]);
  } catch (err) {
    throw gitFailed(`push ${branch}`, err);
  }
}

/** False when the worktree is gone (for example a worker restarted on an emptied data dir). */
export async function isWorktree(dir: string): Promise<boolean> {
  return existsSync(join(dir, '.git'));
}

export async function isGitRepo(dir: string): Promise<boolean> {
  return git(dir).checkIsRepo().catch(() => false);
}
