/**
 * Subtasks in git: the parent's worktree as a commit its children start from (in the mirror, never pushed
 * on its own), and the children's commits merged back into the parent's worktree.
 */
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { failed } from './errors.js';
import { commitTree, mergeTrees } from './integrate.js';
import { stageAll } from './stage.js';
import type { GitCall, JobRepo, RunGit } from './types.js';

/** Conflicted files listed in the merge's output; the others are counted. */
const MAX_CONFLICTS = 100;
/** In the job's git directory: the snapshot and merged tree last checked out, so a retried merge skips it. */
const MERGED = 'drover-subtasks-merged';
const DROVER_IDENTITY = ['-c', 'user.name=Drover', '-c', 'user.email=drover@localhost'];

/**
 * Commits the worktree (as the job's commit would be staged) on `base` and stores it in the mirror under
 * `ref`, where the children's checkouts find it. An unchanged worktree is `base` itself.
 */
export async function snapshotWorktree(
  git: RunGit,
  req: { repo: JobRepo; base: string; mirror: string; ref: string },
  call: GitCall,
): Promise<{ commit: string; tree: string }> {
  const run = { step: 'local' as const, repo: req.repo };
  try {
    await rm(join(req.repo.gitdir, MERGED), { force: true });
    await stageAll(git, req.repo, req.base, call);
    const tree = await git(run, ['write-tree'], call);
    if (tree === (await git(run, ['rev-parse', `${req.base}^{tree}`], call))) return { commit: req.base, tree };
    const commit = await git(
      run,
      [...DROVER_IDENTITY, 'commit-tree', tree, '-p', req.base, '-m', 'drover: the worktree as its subtasks start from it'],
      call,
    );
    await git(
      { step: 'push', gitdir: req.repo.gitdir, local: true },
      ['push', '--porcelain', '--force', '--', req.mirror, `${commit}:${req.ref}`],
      call,
    );
    return { commit, tree };
  } catch (err) {
    throw failed('snapshot for subtasks', err);
  }
}

/**
 * Merges each child's commit into the snapshot in turn (their merge base is the snapshot) and checks the
 * result out over the worktree, which still holds the snapshot. Conflicts stay as markers in the files.
 */
export async function mergeIntoWorktree(
  git: RunGit,
  req: { repo: JobRepo; snapshot: string; commits: string[] },
  call: GitCall,
): Promise<{ conflicts: string[]; conflictsMore?: number }> {
  const { gitdir } = req.repo;
  let head = req.snapshot;
  let tree = await git({ step: 'local', gitdir }, ['rev-parse', `${req.snapshot}^{tree}`], call);
  const conflicts = new Set<string>();
  for (const commit of req.commits) {
    const merged = await mergeTrees(git, gitdir, head, commit, call);
    for (const f of merged.conflicts) conflicts.add(f);
    tree = merged.tree;
    head = await commitTree(git, gitdir, { tree, parents: [head, commit], message: `drover: merge subtask ${commit}` }, call);
  }
  try {
    for (const path of await checkOutMerged(git, req.repo, req.snapshot, tree, call)) conflicts.add(path);
  } catch (err) {
    throw failed('check out the merged subtasks', err);
  }
  const listed = [...conflicts].slice(0, MAX_CONFLICTS);
  return { conflicts: listed, ...(conflicts.size > MAX_CONFLICTS ? { conflictsMore: conflicts.size - MAX_CONFLICTS } : {}) };
}

/**
 * Checks `tree` out over the worktree, which holds `snapshot` (its index staged for it): a two-way read-tree
 * writes only what the children changed. A file setup changed and the parent left alone is base's in the
 * index: where a child changed it too, the child's version is taken. A file the parent has and git does not
 * track (an ignored one) where a child added one is kept, left untracked, and returned as a conflict.
 */
async function checkOutMerged(git: RunGit, repo: JobRepo, snapshot: string, tree: string, call: GitCall): Promise<string[]> {
  const run = { step: 'local' as const, repo };
  const record = join(repo.gitdir, MERGED);
  const done = readRecord(record);
  if (done?.key === `${snapshot} ${tree}`) return done.kept;
  const names = async (args: string[]) =>
    (await git(run, ['diff', '-z', '--name-only', '--no-renames', ...args, '--'], call)).split('\0').filter(Boolean);
  await git(run, ['read-tree', '--reset', snapshot], call);
  const changed = new Set(await names([snapshot, tree]));
  const stale = (await names([])).filter((p) => changed.has(p));
  if (stale.length > 0) await withPaths(git, repo, stale, ['checkout', snapshot], call);
  const kept = (await names(['--diff-filter=A', snapshot, tree])).flatMap((path) => {
    const full = join(repo.worktree, path);
    const st = lstatSync(full, { throwIfNoEntry: false });
    return st?.isFile() ? [{ path, bytes: readFileSync(full), mode: st.mode }] : [];
  });
  await git(run, ['read-tree', '-u', '-m', snapshot, tree], call);
  if (kept.length > 0) {
    for (const k of kept) writeFileSync(join(repo.worktree, k.path), k.bytes, { mode: k.mode });
    await withPaths(
      git,
      repo,
      kept.map((k) => k.path),
      ['rm', '--cached', '--quiet', '-f'],
      call,
    );
  }
  writeFileSync(record, JSON.stringify({ key: `${snapshot} ${tree}`, kept: kept.map((k) => k.path) }));
  return kept.map((k) => k.path);
}

/** Runs a git command on literal paths, passed through a file (argv could not carry them all). */
async function withPaths(git: RunGit, repo: JobRepo, paths: string[], args: string[], call: GitCall): Promise<void> {
  const list = join(repo.gitdir, 'drover-subtask-paths');
  writeFileSync(list, paths.map((p) => `${p}\0`).join(''));
  await git({ step: 'local', repo }, ['--literal-pathspecs', ...args, `--pathspec-from-file=${list}`, '--pathspec-file-nul'], call);
}

function readRecord(path: string): { key: string; kept: string[] } | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { key: string; kept: string[] };
  } catch {
    return undefined;
  }
}
