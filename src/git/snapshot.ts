/**
 * Subtasks in git: the parent's worktree as a commit its children start from (in the mirror, never pushed
 * on its own), and the children's commits merged back into the parent's worktree.
 */
import { failed } from './errors.js';
import { commitTree, mergeTrees } from './integrate.js';
import { stageAll } from './stage.js';
import type { GitCall, JobRepo, RunGit } from './types.js';

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
): Promise<{ conflicts: string[] }> {
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
  const run = { step: 'local' as const, repo: req.repo };
  try {
    // The index is the snapshot's (it was staged for it); a two-way read-tree writes only what the children changed.
    await git(run, ['read-tree', '--reset', req.snapshot], call);
    await git(run, ['read-tree', '-u', '-m', req.snapshot, tree], call);
  } catch (err) {
    throw failed('check out the merged subtasks', err);
  }
  return { conflicts: [...conflicts] };
}
