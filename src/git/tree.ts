/** Reading commits' contents from objects only: tree entries, blobs, and what changed between two commits. */
import type { GitCall, RunGit, TreeEntry } from './types.js';
import type { FileChange } from '../shared/schemas.js';

const MAX_FILES = 200;

/**
 * The entries at these paths in a commit's tree: mode, object id and size. A path the commit does not
 * have is absent. Reads objects only, never the worktree: a cache key or the repository's config is
 * what the commit holds, whatever the job did since.
 */
export async function treeEntries(
  git: RunGit,
  gitdir: string,
  sha: string,
  paths: string[],
  call: GitCall,
): Promise<Map<string, TreeEntry>> {
  if (paths.length === 0) return new Map();
  const out = await git(
    { step: 'local', gitdir },
    ['--literal-pathspecs', 'ls-tree', '-z', '--long', '--full-tree', sha, '--', ...paths],
    call,
  );
  const entries = new Map<string, TreeEntry>();
  for (const record of out.split('\0').filter(Boolean)) {
    const m = /^(\d{6}) (\w+) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(record);
    if (m) entries.set(m[5]!, { mode: m[1]!, type: m[2]!, oid: m[3]!, size: m[4] === '-' ? 0 : Number(m[4]) });
  }
  return entries;
}

/** A blob's content (the caller checked its size with treeEntries). */
export async function readBlob(git: RunGit, gitdir: string, oid: string, call: GitCall): Promise<string> {
  return git({ step: 'local', gitdir }, ['cat-file', 'blob', oid], call);
}

export async function changedFiles(
  git: RunGit,
  gitdir: string,
  base: string,
  commit: string,
  call: GitCall,
): Promise<{ files: FileChange[]; truncated: number }> {
  const out = await git(
    { step: 'local', gitdir },
    ['diff', '--numstat', '-z', '--no-renames', '--no-ext-diff', '--no-textconv', base, commit, '--'],
    call,
  );
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
