/**
 * Shell-like globs for allowlists and included files: `*` matches within one path segment, `**` across
 * segments (a whole `**` segment also matches none: `a/` `**` `/b` matches a/b), `?` one character. A pattern
 * matches the whole string.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*' && pattern[i + 2] === '/') {
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
