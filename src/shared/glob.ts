/**
 * Shell-like globs for allowlists and included files: `*` matches within one path segment, `**` across
 * segments, `?` one character. A pattern matches the whole string. With `emptyDirs` (paths in a tree, as in
 * git and shells) a whole `**` segment also matches no directory: `a/` `**` `/b` matches a/b. Allowlists do
 * without: there, a pattern must never match more than it says.
 */
export function globToRegExp(pattern: string, opts: { emptyDirs?: boolean } = {}): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (opts.emptyDirs && c === '*' && pattern[i + 1] === '*' && pattern[i + 2] === '/') {
      out += '(?:.*/)?';
      i += 2;
    } else if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export const matchesAny = (value: string, patterns: readonly string[]): boolean => patterns.some((p) => globToRegExp(p).test(value));
