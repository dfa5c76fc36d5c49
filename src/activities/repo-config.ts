/**
 * What a repository brings besides its code: `.drover.yml` at the base commit (setup, validate, teardown,
 * cache for jobs that name none), and, for a local repository, the ignored files a job asks to include.
 */
import { copyFileSync, constants, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { GitCall } from '../git/git.js';
import { AppError } from '../shared/errors.js';
import { globToRegExp } from '../shared/glob.js';
import { JobDefaults } from '../shared/schemas.js';
import { makeParents, pathState } from './dep-cache.js';

export const REPO_FILE = '.drover.yml';
const MAX_REPO_FILE = 64 * 1024;
const REGULAR_FILE = /^100(644|755)$/;

interface GitReader {
  treeEntries: (
    gitdir: string,
    sha: string,
    paths: string[],
    call: GitCall,
  ) => Promise<Map<string, { mode: string; oid: string; size: number }>>;
  readBlob: (gitdir: string, oid: string, call: GitCall) => Promise<string>;
}

/**
 * The repository's defaults, read from the commit's objects (never from a checkout, so no link is followed).
 * A file that is not valid fails the job at once: the same commit would fail again.
 */
export async function readRepoDefaults(git: GitReader, gitdir: string, sha: string, call: GitCall): Promise<JobDefaults | undefined> {
  const entry = (await git.treeEntries(gitdir, sha, [REPO_FILE], call)).get(REPO_FILE);
  if (!entry) return undefined;
  const invalid = (why: string) => new AppError('RepoConfigInvalid', `${REPO_FILE} at ${sha.slice(0, 12)} ${why}`);
  if (!REGULAR_FILE.test(entry.mode)) throw invalid('is not a regular file (a link or a directory?)');
  if (entry.size > MAX_REPO_FILE) throw invalid(`is larger than ${MAX_REPO_FILE / 1024} KiB`);
  let data: unknown;
  try {
    data = parseYaml(await git.readBlob(gitdir, entry.oid, call), { maxAliasCount: 50 });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw invalid(`is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return undefined;
  const parsed = JobDefaults.safeParse(data);
  if (!parsed.success) throw invalid(`is not valid: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`);
  return parsed.data;
}

const MAX_INCLUDED = 200;
const MAX_INCLUDED_BYTES = 100 * 1024 * 1024;
const MAX_VISITED = 20_000;
const SAFE_NAME = /^[^\x00-\x1f\x7f\\]+$/;

/**
 * Copies the files matching `patterns` from a local repository's working tree into the worktree: regular
 * files only, reached without a link on either side, never over a file the checkout has. Returns the
 * relative paths copied.
 */
export function copyIncluded(origin: string, worktree: string, patterns: string[]): { copied: string[]; skipped: string[] } {
  const copied: string[] = [];
  const skipped: string[] = [];
  for (const rel of matchFiles(origin, patterns)) {
    if (copied.length >= MAX_INCLUDED) {
      skipped.push(`${rel} (more than ${MAX_INCLUDED} files)`);
      continue;
    }
    if (pathState(origin, rel) !== 'file') continue;
    if (lstatSync(join(origin, rel)).size > MAX_INCLUDED_BYTES) {
      skipped.push(`${rel} (larger than 100 MiB)`);
      continue;
    }
    if (pathState(worktree, rel) !== 'missing') {
      skipped.push(`${rel} (the checkout has it)`);
      continue;
    }
    if (!makeParents(worktree, rel)) {
      skipped.push(`${rel} (a parent in the worktree is a link)`);
      continue;
    }
    copyFileSync(join(origin, rel), join(worktree, rel), constants.COPYFILE_EXCL);
    copied.push(rel);
  }
  return { copied, skipped };
}

/** Files under root whose relative path matches a pattern, walking only where a pattern can match. */
export function matchFiles(root: string, patterns: string[]): string[] {
  const regexps = patterns.map((p) => globToRegExp(p, { emptyDirs: true }));
  const found = new Set<string>();
  let visited = 0;
  const couldMatch = (dir: string) =>
    patterns.some((p) => {
      const fixed = p.split('/');
      const parts = dir.split('/');
      for (let i = 0; i < parts.length; i++) {
        const seg = fixed[i];
        if (seg === undefined) return false;
        if (seg.includes('**')) return true;
        if (!globToRegExp(seg).test(parts[i]!)) return false;
      }
      return true;
    });
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(join(root, dir));
    } catch {
      return;
    }
    for (const name of names) {
      if (++visited > MAX_VISITED) return;
      if (name === '.git' || !SAFE_NAME.test(name)) continue;
      const rel = dir ? `${dir}/${name}` : name;
      const st = lstatSync(join(root, rel), { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if (couldMatch(rel)) walk(rel);
      } else if (st.isFile() && regexps.some((r) => r.test(rel))) found.add(rel);
    }
  };
  walk('');
  return [...found].sort();
}
