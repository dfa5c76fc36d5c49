import { readFileSync } from 'node:fs';
import { AppError } from '../shared/errors.js';

/**
 * Reads KEY=value files (the .env format: comments, blank lines, optional `export ` and quotes). Their
 * variables reach agent processes and are redacted from anything that goes into workflow history.
 */
export function readEnvFiles(paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new AppError(
        'ConfigInvalid',
        `env file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
      if (!m) throw new AppError('ConfigInvalid', `env file ${path}, line ${i + 1}: expected KEY=value`);
      out[m[1]!] = unquote(m[2]!);
    });
  }
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) return v.slice(1, -1);
  return v.replace(/\s+#.*$/, '');
}
