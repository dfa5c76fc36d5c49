import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/**
 * A worker's id names its private task queue, so it must survive restarts: a restarted worker on the same data
 * dir picks up the tasks for the worktrees it holds. Kept in the data dir unless configured.
 */
export function resolveWorkerId(configured: string | undefined, idFile: string): string {
  if (configured) return configured;
  if (existsSync(idFile)) return readFileSync(idFile, 'utf8').trim();
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 60) || 'host';
  const id = `${host}-${randomBytes(3).toString('hex')}`;
  mkdirSync(dirname(idFile), { recursive: true });
  writeFileSync(idFile, `${id}\n`);
  return id;
}
