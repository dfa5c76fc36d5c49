/** The repository's bare mirror: made once, then fetched, and the refs a job starts from read out of it. */
import { rename, rm } from 'node:fs/promises';
import { AUTH_FAILURE, failed, lastLine } from './errors.js';
import { revParse } from './refs.js';
import type { GitCall, GitStep, RunGit } from './types.js';
import { AppError } from '../shared/errors.js';

/**
 * A bare mirror of the origin: made once, then fetched. The URL and refspecs come from the job, never
 * from the mirror's config. Origin branches land under refs/remotes/origin, its HEAD at refs/drover/origin-head.
 */
export async function syncMirror(git: RunGit, repo: string, mirror: string, exists: boolean, local: boolean, call: GitCall): Promise<void> {
  const fetch = (dir: string, step: GitStep) =>
    git(
      { step, gitdir: dir, cwd: dir, local },
      [
        // --verbose: a fetch that prints nothing costs simple-git's 50 ms wait, inside the mirror's lock.
        'fetch',
        '--verbose',
        '--prune',
        '--no-write-fetch-head',
        '--',
        repo,
        '+HEAD:refs/drover/origin-head',
        '+refs/heads/*:refs/remotes/origin/*',
        '+refs/tags/*:refs/tags/*',
      ],
      call,
    );
  if (exists) {
    await fetch(mirror, 'fetch').catch((err) => {
      throw failed(`fetch ${repo}`, err);
    });
    return;
  }
  // Made under a temporary name and renamed, so a crash never leaves a half-made mirror behind.
  const staging = `${mirror}.tmp-${process.pid}-${Date.now()}`;
  try {
    await git({ step: 'local', cwd: '/' }, ['init', '--quiet', '--bare', staging], call);
    await fetch(staging, 'clone');
    await rename(staging, mirror);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // ssh prints "Could not read from remote repository" after a refused key too: that is not a missing repository.
    if (AUTH_FAILURE.test(String((err as Error)?.message))) throw failed(`clone ${repo}`, err);
    if (
      /does not appear to be a git repository|not found|does not exist|Could not read from remote|couldn't find remote ref HEAD/i.test(
        String((err as Error)?.message),
      )
    ) {
      throw new AppError('RepoNotFound', `cannot clone ${repo}: ${lastLine(err)}`, { cause: err });
    }
    throw failed(`clone ${repo}`, err);
  }
}

/** Resolves a base ref the way a user means it: origin's HEAD, an origin branch, a tag, or a commit. */
export async function resolveBase(git: RunGit, mirror: string, base: string, call: GitCall): Promise<string> {
  // A bare commit id is the last reading; a plain name must be an origin branch or a tag.
  const named =
    base === 'HEAD' ? ['refs/drover/origin-head'] : [`refs/remotes/origin/${base.replace(/^origin\//, '')}`, `refs/tags/${base}`];
  const candidates = /^[0-9a-f]{7,40}$/i.test(base) ? [...named, base] : named;
  for (const ref of candidates) {
    const sha = await revParse(git, mirror, `${ref}^{commit}`, call);
    if (sha) return sha;
  }
  throw new AppError('BaseRefNotFound', `base ref ${JSON.stringify(base)} not found in the repository`);
}

/** The origin's copy of a branch as of the mirror's last fetch, or null. */
export async function originBranch(git: RunGit, mirror: string, branch: string, call: GitCall): Promise<string | null> {
  return revParse(git, mirror, `refs/remotes/origin/${branch}`, call);
}

/** Local branches under refs/heads/drover/ (the mirror had one per job before job git directories). */
export async function legacyJobBranches(git: RunGit, mirror: string, call: GitCall): Promise<string[]> {
  const out = await git({ step: 'local', gitdir: mirror }, ['for-each-ref', '--format=%(refname)', 'refs/heads/drover/'], call);
  return out.split('\n').filter(Boolean);
}

/** Whether a local path is a git repository (for checking a job at submit). */
export async function isGitRepo(git: RunGit, dir: string): Promise<boolean> {
  return git({ step: 'local', cwd: dir }, ['rev-parse', '--git-dir']).then(
    () => true,
    () => false,
  );
}
