/**
 * Staging the worktree for a commit or a diff: everything the agent changed, less what setup made and the
 * agent left alone, and never a nested repository as a submodule.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitCall, GitRun, JobRepo, RunGit } from './types.js';
import { unquotePath } from './unquote-path.js';
import { AppError } from '../shared/errors.js';

const GITLINK = '160000';
/** In a job's git directory: the tree the worktree had after setup. */
const SETUP_TREE = 'drover-setup-tree';

/**
 * Records what setup left in the worktree (a lockfile npm wrote, a generated file): it belongs to the
 * environment, not the job, and is left out of the commit unless the agent changed it further.
 */
export async function markSetupTree(git: RunGit, repo: JobRepo, base: string, call: GitCall): Promise<void> {
  // A retried setup marks afresh: the last attempt's marker would unstage what setup made before write-tree.
  await rm(join(repo.gitdir, SETUP_TREE), { force: true });
  await stageAll(git, repo, base, call);
  const tree = await git({ step: 'local', repo }, ['write-tree'], call);
  writeFileSync(join(repo.gitdir, SETUP_TREE), `${tree}\n`);
}

/** The worktree's changes since base, staged, as a unified diff (for the critic). */
export async function stagedDiff(git: RunGit, repo: JobRepo, base: string, call: GitCall): Promise<string> {
  await stageAll(git, repo, base, call);
  return git({ step: 'local', repo }, ['diff', '--cached', '--no-ext-diff', '--no-textconv', base, '--'], call);
}

/**
 * Stages the worktree. A nested repository the agent made or repointed (a directory with a `.git`, which
 * may name any repository on the host) would be recorded as a submodule commit: such entries are put back
 * as they are in base, and if any remains the commit is refused.
 */
export async function stageAll(git: RunGit, repo: JobRepo, base: string, call: GitCall): Promise<void> {
  const run: GitRun = { step: 'local', repo };
  await git(run, ['add', '-A'], call);
  await unstageSetupOutput(git, run, repo, base, call);
  const nested = await gitlinkChanges(git, run, base, call);
  if (nested.length === 0) return;
  // Paths as bytes, through a file: a name need not be UTF-8, and argv could not carry it.
  const list = join(repo.gitdir, 'drover-nested-paths');
  writeFileSync(list, Buffer.concat(nested.flatMap((path) => [path, Buffer.from([0])])));
  await git(run, ['--literal-pathspecs', 'reset', '--quiet', `--pathspec-from-file=${list}`, '--pathspec-file-nul', base], call);
  if ((await gitlinkChanges(git, run, base, call)).length > 0) {
    throw new AppError('AgentProtocolError', 'the worktree holds nested git repositories that could not be left out of the commit');
  }
}

/** Paths setup changed and the agent left as setup made them go back to base in the index. */
async function unstageSetupOutput(git: RunGit, run: GitRun, repo: JobRepo, base: string, call: GitCall): Promise<void> {
  let setupTree: string;
  try {
    setupTree = readFileSync(join(repo.gitdir, SETUP_TREE), 'utf8').trim();
  } catch {
    return;
  }
  const changedPaths = async (args: string[]) => {
    const out = await git(run, ['diff', '--raw', '-z', '--no-renames', '--no-abbrev', '--no-ext-diff', ...args, '--'], call);
    // -z: ":<modes> <ids> <status>\0<path>\0" per entry; paths as raw bytes would need Buffers, and
    // simple-git gives text, so a path that is not UTF-8 is simply not recognized (and stays committed).
    return out.split('\0').filter((_, i) => i % 2 === 1);
  };
  const bySetup = await changedPaths([base, setupTree]);
  if (bySetup.length === 0) return;
  const changedSince = new Set(await changedPaths(['--cached', setupTree]));
  const untouched = bySetup.filter((p) => !changedSince.has(p));
  if (untouched.length === 0) return;
  const list = join(repo.gitdir, 'drover-setup-paths');
  writeFileSync(list, untouched.map((p) => `${p}\0`).join(''));
  await git(run, ['--literal-pathspecs', 'reset', '--quiet', `--pathspec-from-file=${list}`, '--pathspec-file-nul', base], call);
}

/** Staged gitlinks that differ from base, their paths as bytes (git quotes unusual names C-style). */
async function gitlinkChanges(git: RunGit, run: GitRun, base: string, call: GitCall): Promise<Buffer[]> {
  const raw = await git(run, ['-c', 'core.quotePath=true', 'diff', '--cached', '--raw', '--no-renames', '--no-abbrev', base, '--'], call);
  return raw
    .split('\n')
    .map((line) => /^:\d{6} (\d{6}) [0-9a-f]+ [0-9a-f]+ [A-Z]\d*\t(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m?.[1] === GITLINK)
    .map((m) => unquotePath(m[2]!));
}
