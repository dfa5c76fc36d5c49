/** A job's git directory and worktree: checked out fresh, or adopted from a spare checkout made ahead of it. */
import { copyFileSync, mkdirSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { failed } from './errors.js';
import { writeGitDir } from './git-dir.js';
import type { GitCall, JobRepo, RunGit } from './types.js';
import { AppError } from '../shared/errors.js';

export interface JobRepoRequest {
  mirror: string;
  repo: JobRepo;
  branch: string;
  sha: string;
  exclude: string[];
}

const spareRepo = (dir: string): JobRepo => ({ gitdir: join(dir, 'git'), worktree: join(dir, 'worktree') });

/**
 * The job's git directory (objects from the mirror through alternates, the branch at `sha`, an exclude
 * list) and a checkout of `sha` into the worktree.
 */
export async function createJobRepo(git: RunGit, req: JobRepoRequest, call: GitCall): Promise<void> {
  writeGitDir(req.repo.gitdir, { mirror: req.mirror, branch: req.branch, sha: req.sha, exclude: req.exclude, bare: false });
  mkdirSync(req.repo.worktree, { recursive: true });
  await git({ step: 'local', repo: req.repo }, ['read-tree', '-u', '--reset', req.sha], call).catch((err) => {
    throw failed(`check out ${req.sha}`, err);
  });
}

/**
 * A spare checkout of `sha`, made ahead of the job that will take it: a git directory (for its index) and
 * a worktree, under `dir`. Only the worker writes it; no job sees it before adoptSpare hands it to one.
 */
export async function makeSpare(git: RunGit, req: { mirror: string; dir: string; sha: string }, call: GitCall): Promise<void> {
  const repo = spareRepo(req.dir);
  writeGitDir(repo.gitdir, { mirror: req.mirror, branch: 'drover/spare', sha: req.sha, exclude: [], bare: false });
  mkdirSync(repo.worktree, { recursive: true });
  await git({ step: 'local', repo }, ['read-tree', '-u', '--reset', req.sha], call).catch((err) => {
    throw failed(`check out ${req.sha}`, err);
  });
}

/**
 * What createJobRepo makes, from a spare checkout of `spareSha` moved into place (a rename) and brought
 * to `sha` by a two-way read-tree, which writes only the files that differ.
 */
export async function adoptSpare(git: RunGit, req: JobRepoRequest & { spareDir: string; spareSha: string }, call: GitCall): Promise<void> {
  const spare = spareRepo(req.spareDir);
  writeGitDir(req.repo.gitdir, { mirror: req.mirror, branch: req.branch, sha: req.sha, exclude: req.exclude, bare: false });
  await rename(join(spare.gitdir, 'index'), join(req.repo.gitdir, 'index'));
  mkdirSync(dirname(req.repo.worktree), { recursive: true });
  await rename(spare.worktree, req.repo.worktree);
  if (req.spareSha === req.sha) return;
  // A two-way read-tree leaves files it need not rewrite as they are: had .gitattributes changed (line
  // endings, ident), those would differ from a fresh checkout.
  const attributes = await git(
    { step: 'local', gitdir: req.repo.gitdir },
    ['diff', '--name-only', '--no-renames', req.spareSha, req.sha, '--', ':(glob)**/.gitattributes'],
    call,
  );
  if (attributes)
    throw new AppError('GitFailed', `.gitattributes changed between ${req.spareSha.slice(0, 12)} and ${req.sha.slice(0, 12)}`);
  await git({ step: 'local', repo: req.repo }, ['read-tree', '-u', '-m', req.spareSha, req.sha], call).catch((err) => {
    throw failed(`check out ${req.sha}`, err);
  });
}

/**
 * A repository of the agent's own at `<worktree>/.git`, so it can run `git status` and `git diff`: the
 * same objects and index, nothing shared that the worker reads. Host runtime only: a container cannot
 * see the mirror's objects.
 */
export function createAgentRepo(req: JobRepoRequest): void {
  const dir = join(req.repo.worktree, '.git');
  writeGitDir(dir, { mirror: req.mirror, branch: req.branch, sha: req.sha, exclude: req.exclude, bare: false });
  copyFileSync(join(req.repo.gitdir, 'index'), join(dir, 'index'));
}
