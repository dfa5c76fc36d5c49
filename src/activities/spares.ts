/**
 * Spare checkouts: for a repository whose checkout is slow (thousands of files), the worker keeps one checkout
 * made ahead, so the next job's prepare is a rename plus a read-tree of what changed since, not a checkout of
 * every file (20,000 files: about 300 ms against 20). Made in the background after a job took one, from the
 * mirror only, by the worker only: no job ever sees a spare before it is handed to exactly one job, and none
 * is used twice. Spares are removed at worker start (they are cheap to make again).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Git } from '../git/git.js';

/** A checkout slower than this makes its repository keep a spare. */
const SLOW_CHECKOUT_MS = 100;

export interface Spare {
  dir: string;
  sha: string;
}

export interface Spares {
  /** A ready spare of this mirror, now the caller's (it must adopt or remove it), or undefined. */
  take(mirror: string): Spare | undefined;
  /** How long a full checkout of this mirror took: slow ones get spares. */
  noteCheckout(mirror: string, ms: number): void;
  /** Starts making a spare of `sha` when the mirror's checkouts are slow and it has none ready or coming. */
  replenish(mirror: string, sha: string): void;
  /** Stops spares being made and waits for them to stop. */
  close(): Promise<void>;
}

export function createSpares(opts: {
  dir: string;
  git: Git;
  perRepo: number;
  maxRepos: number;
  slowMs?: number;
  removeTree?: (path: string) => Promise<void>;
  log?: (line: string) => void;
}): Spares {
  const removeTree = opts.removeTree ?? ((path: string) => rm(path, { recursive: true, force: true }));
  const slowMs = opts.slowMs ?? SLOW_CHECKOUT_MS;
  // A worker that starts has no spares: whatever a crash left is removed, not trusted.
  rmSync(opts.dir, { recursive: true, force: true });
  const slow = new Map<string, boolean>();
  const making = new Map<string, Promise<void>>();
  const used: string[] = [];
  const stop = new AbortController();
  let n = 0;

  const area = (mirror: string) => join(opts.dir, basename(mirror));
  const ready = (mirror: string): string[] => {
    try {
      return readdirSync(area(mirror)).filter((d) => d.startsWith('spare-'));
    } catch {
      return [];
    }
  };

  /**
   * Keeps spares for the repositories used last; the others' finished spares go (in the background: one
   * being made or just taken by a job is not touched).
   */
  function touch(mirror: string): void {
    const i = used.indexOf(mirror);
    if (i >= 0) used.splice(i, 1);
    used.unshift(mirror);
    for (const old of used.splice(opts.maxRepos)) {
      for (const name of ready(old)) {
        void removeTree(join(area(old), name)).catch(() => undefined);
      }
    }
  }

  async function make(mirror: string, sha: string): Promise<void> {
    const staging = join(area(mirror), `.making-${++n}`);
    try {
      mkdirSync(staging, { recursive: true });
      const started = Date.now();
      await opts.git.makeSpare({ mirror, dir: staging, sha }, { signal: stop.signal });
      slow.set(mirror, Date.now() - started >= slowMs);
      writeFileSync(join(staging, 'sha'), `${sha}\n`);
      // Renamed when whole: take() only ever sees finished spares.
      renameSync(staging, join(area(mirror), `spare-${n}`));
    } catch (err) {
      await removeTree(staging).catch(() => undefined);
      if (!stop.signal.aborted) opts.log?.(`could not make a spare checkout of ${basename(mirror)}: ${(err as Error).message}`);
    }
  }

  return {
    take(mirror) {
      for (const name of ready(mirror)) {
        const dir = join(area(mirror), name);
        const claimed = join(area(mirror), `.taken-${++n}`);
        try {
          // The rename is the claim: of two jobs, one gets it.
          renameSync(dir, claimed);
          return { dir: claimed, sha: readFileSync(join(claimed, 'sha'), 'utf8').trim() };
        } catch {
          rmSync(claimed, { recursive: true, force: true });
        }
      }
      return undefined;
    },
    noteCheckout(mirror, ms) {
      slow.set(mirror, ms >= slowMs);
    },
    replenish(mirror, sha) {
      if (opts.perRepo === 0 || !slow.get(mirror) || stop.signal.aborted) return;
      try {
        touch(mirror);
      } catch (err) {
        opts.log?.(`spare checkouts: ${(err as Error).message}`);
        return;
      }
      if (making.has(mirror) || ready(mirror).length >= opts.perRepo) return;
      const work = make(mirror, sha).finally(() => making.delete(mirror));
      making.set(mirror, work);
    },
    async close() {
      stop.abort();
      await Promise.all(making.values());
    },
  };
}
