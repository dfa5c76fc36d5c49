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

export interface SparesOptions {
  dir: string;
  git: Git;
  perRepo: number;
  maxRepos: number;
  slowMs?: number;
  removeTree?: (path: string) => Promise<void>;
  log?: (line: string) => void;
}

interface SpareStore {
  opts: SparesOptions;
  removeTree: (path: string) => Promise<void>;
  slowMs: number;
  slow: Map<string, boolean>;
  making: Map<string, Promise<void>>;
  /** Mirrors by last use, the latest first. */
  used: string[];
  stop: AbortController;
  /** The number of the last directory made or claimed: each gets a name of its own. */
  serial: number;
}

export function createSpares(opts: SparesOptions): Spares {
  const removeTree = opts.removeTree ?? ((path: string) => rm(path, { recursive: true, force: true }));
  const slowMs = opts.slowMs ?? SLOW_CHECKOUT_MS;
  // A worker that starts has no spares: whatever a crash left is removed, not trusted.
  rmSync(opts.dir, { recursive: true, force: true });
  const store: SpareStore = {
    opts,
    removeTree,
    slowMs,
    slow: new Map(),
    making: new Map(),
    used: [],
    stop: new AbortController(),
    serial: 0,
  };
  return {
    take: (mirror) => takeSpare(store, mirror),
    noteCheckout: (mirror, ms) => {
      store.slow.set(mirror, ms >= store.slowMs);
    },
    replenish: (mirror, sha) => replenish(store, mirror, sha),
    close: () => closeSpares(store),
  };
}

const area = (store: SpareStore, mirror: string) => join(store.opts.dir, basename(mirror));

function ready(store: SpareStore, mirror: string): string[] {
  try {
    return readdirSync(area(store, mirror)).filter((d) => d.startsWith('spare-'));
  } catch {
    return [];
  }
}

function takeSpare(store: SpareStore, mirror: string): Spare | undefined {
  for (const name of ready(store, mirror)) {
    const dir = join(area(store, mirror), name);
    const claimed = join(area(store, mirror), `.taken-${++store.serial}`);
    try {
      // The rename is the claim: of two jobs, one gets it.
      renameSync(dir, claimed);
      return { dir: claimed, sha: readFileSync(join(claimed, 'sha'), 'utf8').trim() };
    } catch {
      rmSync(claimed, { recursive: true, force: true });
    }
  }
  return undefined;
}

function replenish(store: SpareStore, mirror: string, sha: string): void {
  if (store.opts.perRepo === 0 || !store.slow.get(mirror) || store.stop.signal.aborted) return;
  try {
    touch(store, mirror);
  } catch (err) {
    store.opts.log?.(`spare checkouts: ${(err as Error).message}`);
    return;
  }
  if (store.making.has(mirror) || ready(store, mirror).length >= store.opts.perRepo) return;
  const work = make(store, mirror, sha).finally(() => store.making.delete(mirror));
  store.making.set(mirror, work);
}

async function closeSpares(store: SpareStore): Promise<void> {
  store.stop.abort();
  await Promise.all(store.making.values());
}

/**
 * Keeps spares for the repositories used last; the others' finished spares go (in the background: one
 * being made or just taken by a job is not touched).
 */
function touch(store: SpareStore, mirror: string): void {
  const i = store.used.indexOf(mirror);
  if (i >= 0) store.used.splice(i, 1);
  store.used.unshift(mirror);
  for (const old of store.used.splice(store.opts.maxRepos)) {
    for (const name of ready(store, old)) {
      void store.removeTree(join(area(store, old), name)).catch(() => undefined);
    }
  }
}

async function make(store: SpareStore, mirror: string, sha: string): Promise<void> {
  const staging = join(area(store, mirror), `.making-${++store.serial}`);
  try {
    mkdirSync(staging, { recursive: true });
    const started = Date.now();
    await store.opts.git.makeSpare({ mirror, dir: staging, sha }, { signal: store.stop.signal });
    store.slow.set(mirror, Date.now() - started >= store.slowMs);
    writeFileSync(join(staging, 'sha'), `${sha}\n`);
    // Renamed when whole: take() only ever sees finished spares.
    renameSync(staging, join(area(store, mirror), `spare-${store.serial}`));
  } catch (err) {
    await store.removeTree(staging).catch(() => undefined);
    if (!store.stop.signal.aborted) store.opts.log?.(`could not make a spare checkout of ${basename(mirror)}: ${(err as Error).message}`);
  }
}
