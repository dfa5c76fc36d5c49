import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../shared/errors.js';

/**
 * One worker per data dir: its mirrors, worktrees and worker id (hence its host queue) are that worker's own.
 * A second worker on the same dir would race on git locks and steal the first one's host tasks.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'worker.lock');
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (holder && holder !== process.pid && alive(holder)) {
        throw new AppError(
          'ConfigInvalid',
          `data dir ${dataDir} is in use by the worker with pid ${holder}; give this worker its own --data-dir`,
        );
      }
      rmSync(file, { force: true }); // left by a worker that died
    }
  }
  throw new AppError('ConfigInvalid', `cannot lock data dir ${dataDir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
