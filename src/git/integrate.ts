/**
 * Landing a job's commit on a target branch, in the mirror and with plumbing only: no worktree is touched,
 * so nothing a job wrote is read while merging. The commit made is pushed by pushCommit with a lease.
 */
import { failed } from './errors.js';
import { GitCommandError } from './plumbing.js';
import type { GitCall, RunGit } from './types.js';

const DROVER_IDENTITY = ['-c', 'user.name=Drover', '-c', 'user.email=drover@localhost'];
/** How far back on the target a landed job is looked for (a retry after a push that did land). */
const LANDED_LOOKBACK = 1_000;

export interface MergedTree {
  tree: string;
  /** Files with conflict markers in the tree; empty for a clean merge. */
  conflicts: string[];
}

/** A three-way merge of two commits (their merge base as the base) into a tree, conflict markers included. */
export async function mergeTrees(git: RunGit, gitdir: string, ours: string, theirs: string, call: GitCall): Promise<MergedTree> {
  const args = ['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', '--end-of-options', ours, theirs];
  try {
    const out = await git({ step: 'local', gitdir }, args, call);
    return { tree: out.split('\0')[0] ?? '', conflicts: [] };
  } catch (err) {
    // Exit 1 is a merge with conflicts: stdout (the message, as stderr is empty) has the tree and the files.
    if (err instanceof GitCommandError && err.exitCode === 1 && /^[0-9a-f]{40}/.test(err.message)) {
      const [tree = '', ...files] = err.message.split('\0').filter(Boolean);
      return { tree, conflicts: [...new Set(files)] };
    }
    throw failed('merge-tree', err);
  }
}

/** A commit of `tree` on `parents`, as Drover (the worker never takes an identity from a job's repository). */
export async function commitTree(
  git: RunGit,
  gitdir: string,
  req: { tree: string; parents: string[]; message: string },
  call: GitCall,
): Promise<string> {
  const parents = req.parents.flatMap((p) => ['-p', p]);
  try {
    return await git({ step: 'local', gitdir }, [...DROVER_IDENTITY, 'commit-tree', req.tree, ...parents, '-m', req.message], call);
  } catch (err) {
    throw failed('commit-tree', err);
  }
}

/** The full message of a commit. */
export async function commitMessage(git: RunGit, gitdir: string, sha: string, call: GitCall): Promise<string> {
  return git({ step: 'local', gitdir }, ['log', '-1', '--format=%B', '--end-of-options', sha, '--'], call);
}

/**
 * The commit on `target` that landed the job commit `from`, if one is within the last commits: its message
 * names it in Drover-Integrated-From. Makes a retry after a push that landed a no-op.
 */
export async function landedCommit(
  git: RunGit,
  gitdir: string,
  req: { target: string; from: string; into: string },
  call: GitCall,
): Promise<string | null> {
  const out = await git(
    { step: 'local', gitdir },
    ['log', `-${LANDED_LOOKBACK}`, '--format=%H%x00%B%x01', '--end-of-options', req.target, '--'],
    call,
  );
  for (const record of out.split('\x01')) {
    const [sha, body = ''] = record.trim().split('\0');
    const lines = body.split('\n').map((l) => l.trim());
    if (sha && lines.includes(`${FROM_TRAILER}: ${req.from}`) && lines.includes(`${INTEGRATED_TRAILER}: ${req.into}`)) return sha;
  }
  return null;
}

export const INTEGRATED_TRAILER = 'Drover-Integrated-Into';
const FROM_TRAILER = 'Drover-Integrated-From';

/** The job's message with the integration trailers added to its trailer block: where to, and from which commit. */
export function integratedMessage(message: string, into: string, from: string): string {
  return `${message.trimEnd()}\n${INTEGRATED_TRAILER}: ${into}\n${FROM_TRAILER}: ${from}`;
}

/** Whether `ancestor` is in the history of `commit`. */
export async function isAncestor(git: RunGit, gitdir: string, ancestor: string, commit: string, call: GitCall): Promise<boolean> {
  try {
    await git({ step: 'local', gitdir }, ['merge-base', '--is-ancestor', '--end-of-options', ancestor, commit], call);
    return true;
  } catch (err) {
    if (err instanceof GitCommandError && err.exitCode === 1) return false;
    throw failed('merge-base', err);
  }
}
