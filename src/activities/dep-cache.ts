/**
 * Dependency caches: what a job's setup produced (node_modules, .venv), kept in the worker's data dir under a
 * name made from the content of key files at the base commit, and copied into later jobs before their setup.
 *
 * The worktree is the job's: every path is checked without following a link (a parent that is a link is
 * refused), copies never dereference links, and set-user-ID bits and ownership are not carried over. Copies
 * are made while none of the job's processes run. A cache is copied, never hard-linked: an in-place write by
 * a later job (root ignores read-only bits) would change the cache for every job after it.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TreeEntry } from '../git/git.js';
import type { CacheSpec } from '../shared/schemas.js';

const COPY_TIMEOUT_MS = 10 * 60_000;
const META = 'meta.json';

export interface CacheEntry {
  key: string;
  paths: string[];
  sizeBytes: number;
  createdAt: string;
  usedAt: string;
}

/**
 * The cache's name: the repository and the setup commands that made it (one repository's cache never reaches
 * another, whatever its lockfile says), its paths, where it was made (a host build and a container build of
 * native modules differ), and the key files' object ids at the base commit (a missing file counts as missing).
 */
export function cacheKey(
  spec: CacheSpec,
  made: { repo: string; place: string; setup: string[] },
  keyFiles: Map<string, TreeEntry>,
): string {
  const keys = spec.key.map((k) => [k, keyFiles.get(k)?.oid ?? null]);
  return createHash('sha256')
    .update(JSON.stringify({ v: 2, repo: made.repo, place: made.place, setup: made.setup, paths: spec.paths, keys }))
    .digest('hex')
    .slice(0, 24);
}

/** What `path` (relative) is in `root`, looking at each part without following a link. */
export function pathState(root: string, rel: string): 'missing' | 'dir' | 'file' | 'unsafe' {
  const parts = rel.split('/');
  let at = root;
  for (let i = 0; i < parts.length; i++) {
    at = join(at, parts[i]!);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    const last = i === parts.length - 1;
    if (st.isSymbolicLink()) return 'unsafe';
    if (!last && !st.isDirectory()) return 'unsafe';
    if (last) return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'unsafe';
  }
  return 'unsafe';
}

export interface DepCacheOptions {
  dir: string;
  maxBytes: number;
}

export function createDepCache(opts: DepCacheOptions) {
  return {
    dir: opts.dir,
    list: (): CacheEntry[] => listEntries(opts),
    evict: (maxBytes = opts.maxBytes): string[] => evictEntries(opts, maxBytes),
    remove: (key: string): void => removeEntry(opts, key),
    has: (key: string): boolean => readEntry(opts, key) !== undefined,
    restore: (key: string, worktree: string, signal?: AbortSignal): Promise<string[]> => restoreEntry(opts, key, worktree, signal),
    save: (key: string, worktree: string, paths: string[], signal?: AbortSignal): Promise<SaveResult> =>
      saveEntry(opts, key, worktree, paths, signal),
  };
}
export type DepCache = ReturnType<typeof createDepCache>;

const entryDir = (opts: DepCacheOptions, key: string) => join(opts.dir, key);

function readEntry(opts: DepCacheOptions, key: string): CacheEntry | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(entryDir(opts, key), META), 'utf8')) as Omit<CacheEntry, 'usedAt'>;
    return { ...meta, usedAt: statSync(join(entryDir(opts, key), META)).mtime.toISOString() };
  } catch {
    return undefined;
  }
}

/** Staging and doomed directories a crash left behind (older than a day: a save in progress is younger). */
function removeStaleStaging(opts: DepCacheOptions): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(opts.dir).filter((n) => n.startsWith('.tmp-'))) {
    const st = lstatSync(join(opts.dir, name), { throwIfNoEntry: false });
    if (st && st.mtimeMs < dayAgo) rmSync(join(opts.dir, name), { recursive: true, force: true });
  }
}

function listEntries(opts: DepCacheOptions): CacheEntry[] {
  let names: string[] = [];
  try {
    names = readdirSync(opts.dir).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  return names.flatMap((key) => readEntry(opts, key) ?? []).sort((a, b) => b.usedAt.localeCompare(a.usedAt));
}

function removeEntry(opts: DepCacheOptions, key: string): void {
  // Renamed first, so a job never restores from a half-removed cache.
  const doomed = join(opts.dir, `.tmp-rm-${randomBytes(6).toString('hex')}`);
  try {
    renameSync(entryDir(opts, key), doomed);
  } catch {
    return;
  }
  rmSync(doomed, { recursive: true, force: true });
}

/** Removes least recently used caches until the rest fit in the limit. */
function evictEntries(opts: DepCacheOptions, maxBytes: number): string[] {
  const entries = listEntries(opts);
  let total = entries.reduce((sum, e) => sum + e.sizeBytes, 0);
  const evicted: string[] = [];
  for (const e of [...entries].reverse()) {
    if (total <= maxBytes) break;
    removeEntry(opts, e.key);
    total -= e.sizeBytes;
    evicted.push(e.key);
  }
  return evicted;
}

/**
 * Copies the cached paths into the worktree where the worktree has nothing yet. Returns the paths
 * restored; a path whose parent is a link (or not a directory) is skipped.
 */
async function restoreEntry(opts: DepCacheOptions, key: string, worktree: string, signal?: AbortSignal): Promise<string[]> {
  const entry = readEntry(opts, key);
  if (!entry) return [];
  const restored: string[] = [];
  for (const path of entry.paths) {
    const source = join(entryDir(opts, key), 'files', path);
    if (pathState(join(entryDir(opts, key), 'files'), path) === 'missing') continue;
    if (pathState(worktree, path) !== 'missing' || !makeParents(worktree, path)) continue;
    try {
      await copy(source, join(worktree, path), signal);
    } catch (err) {
      // Half a node_modules, owned by the worker, would only break the job's setup.
      rmSync(join(worktree, path), { recursive: true, force: true });
      throw err;
    }
    restored.push(path);
  }
  const now = new Date();
  utimesSync(join(entryDir(opts, key), META), now, now);
  return restored;
}

export interface SaveResult {
  saved: string[];
  sizeBytes: number;
  evicted: string[];
  tooLarge?: number;
}

/**
 * Saves the paths (those that are a directory or a file, reached without a link) under `key`, unless a
 * cache of that key exists. Returns what was saved, then evicts the least recently used caches beyond
 * the size limit (this one too, when it alone is larger).
 */
async function saveEntry(opts: DepCacheOptions, key: string, worktree: string, paths: string[], signal?: AbortSignal): Promise<SaveResult> {
  if (readEntry(opts, key)) return { saved: [], sizeBytes: 0, evicted: [] };
  mkdirSync(opts.dir, { recursive: true });
  removeStaleStaging(opts);
  // Measured before it is copied: a cache larger than the whole limit would only fill the disk twice.
  const sources = paths.filter((p) => ['dir', 'file'].includes(pathState(worktree, p)));
  const before = sources.length
    ? await diskUsage(
        sources.map((p) => join(worktree, p)),
        signal,
      )
    : 0;
  if (before > opts.maxBytes) return { saved: [], sizeBytes: 0, evicted: [], tooLarge: before };
  const staging = join(opts.dir, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    const saved: string[] = [];
    for (const path of paths) {
      const state = pathState(worktree, path);
      if (state !== 'dir' && state !== 'file') continue;
      const target = join(staging, 'files', path);
      mkdirSync(dirname(target), { recursive: true });
      await copy(join(worktree, path), target, signal);
      saved.push(path);
    }
    if (saved.length === 0) return { saved, sizeBytes: 0, evicted: [] };
    const sizeBytes = await diskUsage([staging], signal);
    const meta = { key, paths: saved, sizeBytes, createdAt: new Date().toISOString() };
    writeFileSync(join(staging, META), JSON.stringify(meta));
    try {
      renameSync(staging, entryDir(opts, key));
    } catch (err) {
      // Another job saved the same key first: theirs stays.
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    return { saved, sizeBytes, evicted: evictEntries(opts, opts.maxBytes) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Creates the missing parents of `rel` in root; false when one of them is a link or not a directory. */
export function makeParents(root: string, rel: string): boolean {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const state = pathState(root, sub);
    if (state === 'missing') mkdirSync(join(root, sub));
    else if (state !== 'dir') return false;
  }
  return true;
}

/**
 * A copy that keeps links as links and hard links among the copied files, and drops ownership and mode
 * bits beyond the permissions (no set-user-ID file comes out of a job). A reflink where the file system has them.
 */
function copy(from: string, to: string, signal?: AbortSignal): Promise<void> {
  return run('cp', ['-R', '--no-dereference', '--preserve=timestamps,links', '--reflink=auto', '--', from, to], signal).then(
    () => undefined,
  );
}

/** Bytes used by these paths together (links not followed, one file system). */
async function diskUsage(paths: string[], signal?: AbortSignal): Promise<number> {
  const out = await run('du', ['-s', '-c', '-B1', '-x', '--', ...paths], signal);
  const total = out.trim().split('\n').at(-1) ?? '';
  return Number(total.split('\t')[0]) || 0;
}

function run(file: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: COPY_TIMEOUT_MS, signal, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} failed: ${(stderr || err.message).trim().split('\n').slice(-1)[0]}`));
      else resolve(stdout);
    });
  });
}

/** "10g" → bytes. */
export function parseSize(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgt]?)$/i.exec(size.trim());
  if (!m) throw new Error(`not a size: ${size}`);
  const exp = { '': 0, k: 1, m: 2, g: 3, t: 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * 1024 ** exp);
}
