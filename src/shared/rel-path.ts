/**
 * Paths a job or a repository names inside the worktree (cache paths and keys, included files). Pure
 * checks only: whatever later touches the file system still refuses to follow a link.
 */
export function relPathProblem(path: string, opts: { glob?: boolean } = {}): string | undefined {
  if (path.length === 0 || path.length > 500) return 'must be 1-500 characters';
  if (path.startsWith('/')) return 'must be relative to the repository root';
  if (/[\x00-\x1f\x7f\\]/.test(path)) return 'must not contain control characters or "\\"';
  if (!opts.glob && /[*?[\]{}]/.test(path)) return 'must not contain glob characters';
  const parts = path.replace(/\/+$/, '').split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'must not contain empty, "." or ".." segments';
  if (parts.some((p) => p === '.git')) return 'must not name .git';
  return undefined;
}

/** The path without a trailing slash: `node_modules/` and `node_modules` are the same path. */
export const normalizeRelPath = (path: string): string => path.replace(/\/+$/, '');
