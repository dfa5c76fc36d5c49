/** The job's one commit on its branch, and its push to the origin. */
import { failed, lastLine } from './errors.js';
import { revParse } from './refs.js';
import { stageAll } from './stage.js';
import type { GitCall, GitRun, JobRepo, RunGit } from './types.js';
import { AppError } from '../shared/errors.js';

const DROVER_IDENTITY = { name: 'Drover', email: 'drover@localhost' };

/**
 * Commits the worktree on the job branch with `base` as the parent, whatever the agent did with git; a
 * worktree that merged a target branch in (a job sent back by its integration) gets `merged` as a second
 * parent, so the job branch only ever moves forward. Idempotent: a retry after the commit was made returns
 * it. Returns null when nothing changed.
 */
export async function commitJob(
  git: RunGit,
  req: { repo: JobRepo; branch: string; base: string; merged?: string; message: string; trailers: Record<string, string> },
  call: GitCall,
): Promise<string | null> {
  const run: GitRun = { step: 'local', repo: req.repo };
  const ref = `refs/heads/${req.branch}`;
  const current = await revParse(git, req.repo.gitdir, ref, call);
  if (current && current !== req.base && (await isJobCommit(git, req.repo, current, parentsOf(req), req.trailers, call))) return current;
  try {
    await stageAll(git, req.repo, req.base, call);
    const tree = await git(run, ['write-tree'], call);
    if (!req.merged && tree === (await git(run, ['rev-parse', `${req.base}^{tree}`], call))) return null;
    const trailers = Object.entries(req.trailers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
    const identity = await identityArgs(git, req.repo.gitdir, call);
    const sha = await git(
      run,
      [...identity, 'commit-tree', tree, ...parentsOf(req).flatMap((p) => ['-p', p]), '-m', req.message.trim(), '-m', trailers],
      call,
    );
    await git(run, ['update-ref', '-m', 'drover commit', ref, sha, current ?? ''], call);
    return sha;
  } catch (err) {
    throw failed('commit', err);
  }
}

/**
 * Pushes exactly `sha` to the origin's job branch, with a lease: the branch must be where the mirror last
 * saw it (or absent). Pushing a sha the origin already has there is a no-op, so a retry succeeds.
 */
export async function pushCommit(
  git: RunGit,
  req: { gitdir: string; url: string; local: boolean; branch: string; sha: string; expected: string | null },
  call: GitCall,
): Promise<void> {
  const ref = `refs/heads/${req.branch}`;
  try {
    await git(
      { step: 'push', gitdir: req.gitdir, local: req.local },
      ['push', '--porcelain', `--force-with-lease=${ref}:${req.expected ?? ''}`, '--', req.url, `${req.sha}:${ref}`],
      call,
    );
  } catch (err) {
    if (/stale info|\[rejected\]|fetch first|non-fast-forward/i.test(String((err as Error)?.message))) {
      throw new AppError(
        'PushRejected',
        `${req.branch} in the origin moved to a commit Drover did not make; not overwriting it (${lastLine(err)})`,
        { cause: err },
      );
    }
    if (/refusing to update checked out branch|branch is currently checked out/i.test(String((err as Error)?.message))) {
      throw new AppError(
        'PushRefused',
        `the origin has ${req.branch} checked out in its working tree and refuses pushes to it; use a bare repository as the origin, or set receive.denyCurrentBranch=updateInstead there`,
        { cause: err },
      );
    }
    throw failed(`push ${req.branch}`, err);
  }
}

const parentsOf = (req: { base: string; merged?: string }) => (req.merged ? [req.base, req.merged] : [req.base]);

/** A commit this job made before (a retry after the commit): its parents are the job's, its trailers are ours. */
async function isJobCommit(
  git: RunGit,
  repo: JobRepo,
  sha: string,
  parentList: string[],
  trailers: Record<string, string>,
  call: GitCall,
): Promise<boolean> {
  const out = await git({ step: 'local', gitdir: repo.gitdir }, ['log', '-1', '--format=%P%x00%B', sha, '--'], call);
  const [parents, body = ''] = out.split('\0');
  return parents === parentList.join(' ') && Object.entries(trailers).every(([k, v]) => body.includes(`${k}: ${v}`));
}

/** Commits as the worker's configured git user, or as Drover when it has none. */
async function identityArgs(git: RunGit, gitdir: string, call: GitCall): Promise<string[]> {
  const email = await git({ step: 'local', gitdir }, ['config', 'user.email'], call).catch(() => '');
  return email ? [] : ['-c', `user.name=${DROVER_IDENTITY.name}`, '-c', `user.email=${DROVER_IDENTITY.email}`];
}
