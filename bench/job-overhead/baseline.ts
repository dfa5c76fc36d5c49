/**
 * The raw-git baseline: the git commands Drover's activities run (src/git/git.ts via src/activities/workspace.ts
 * and commit.ts), in the same order and with the per-mirror FIFO lock around the fetch (the only step that
 * takes it), without Temporal, simple-git, job logs or process scans. If those activities change, change this
 * to match.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_COMMAND, type Mode, PROMPT } from './options.js';
import { git, keyLock, now, round1, run } from './shared.js';

const baselineLock = keyLock();

export async function ensureBaselineMirror(origin: string, mirror: string): Promise<void> {
  if (existsSync(mirror)) return;
  await git('/', 'init', '--quiet', '--bare', mirror);
  await gitFetch(origin, mirror);
}

const gitFetch = (origin: string, mirror: string) =>
  git(
    mirror,
    'fetch',
    '--quiet',
    '--prune',
    '--no-write-fetch-head',
    '--',
    origin,
    '+HEAD:refs/drover/origin-head',
    '+refs/heads/*:refs/remotes/origin/*',
    '+refs/tags/*:refs/tags/*',
  );

/** A job git directory as createJobRepo writes it, and the checkout. */
async function gitCheckout(mirror: string, gitdir: string, worktree: string, branch: string, sha: string): Promise<void> {
  mkdirSync(join(gitdir, 'objects', 'info'), { recursive: true });
  mkdirSync(join(gitdir, 'refs', 'heads', 'bench'), { recursive: true });
  mkdirSync(join(gitdir, 'info'), { recursive: true });
  writeFileSync(join(gitdir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = false\n');
  writeFileSync(join(gitdir, 'HEAD'), `ref: refs/heads/${branch}\n`);
  writeFileSync(join(gitdir, 'refs', 'heads', ...branch.split('/')), `${sha}\n`);
  writeFileSync(join(gitdir, 'objects', 'info', 'alternates'), `${join(mirror, 'objects')}\n`);
  writeFileSync(join(gitdir, 'info', 'exclude'), '/.drover/\n');
  mkdirSync(worktree, { recursive: true });
  await git(worktree, `--git-dir=${gitdir}`, `--work-tree=${worktree}`, 'read-tree', '-u', '--reset', sha);
}

/** fetch (under the lock) + rev-parse + git dir + read-tree, as in syncMirror + resolveBase + createJobRepo. */
export async function gitPrepare(origin: string, mirror: string, gitdir: string, worktree: string, branch: string): Promise<string> {
  await baselineLock(mirror, () => gitFetch(origin, mirror));
  const sha = await git(mirror, 'rev-parse', '--verify', '--quiet', '--end-of-options', 'refs/drover/origin-head^{commit}');
  await gitCheckout(mirror, gitdir, worktree, branch, sha);
  return sha;
}

interface JobCheckout {
  id: string;
  origin: string;
  mirror: string;
  branch: string;
  base: string;
  mode: Mode;
  /** git with the job's git dir and worktree */
  g: (...args: string[]) => Promise<string>;
}

/** commitJob + originBranch + pushCommit + changedFiles, as in commitChanges. */
async function commitAndPush({ id, origin, mirror, branch, base, mode, g }: JobCheckout): Promise<void> {
  await g('rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
  await g('add', '-A');
  const tree = await g('write-tree');
  if (tree !== (await g('rev-parse', `${base}^{tree}`))) {
    await g('config', 'user.email').catch(() => '');
    const commit = await g(
      'commit-tree',
      tree,
      '-p',
      base,
      '-m',
      PROMPT,
      '-m',
      `Drover-Job: ${id}\nDrover-Agent: command\nDrover-Base: ${base}`,
    );
    await g('update-ref', `refs/heads/${branch}`, commit, base);
    await git(mirror, 'rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`).catch(() => '');
    await g('push', '--quiet', `--force-with-lease=refs/heads/${branch}:`, '--', origin, `${commit}:refs/heads/${branch}`);
    await g('diff', '--numstat', '-z', '--no-renames', base, commit);
  } else if (mode === 'commit') {
    throw new Error('baseline: the commit-mode agent changed nothing');
  }
}

/**
 * One job's worth of git with no Temporal: prepare, run the agent command, commit + push if changed, remove.
 * Returns per-phase wall times under the workflow's phase names, so the two can be compared phase by phase.
 */
export async function baselineJob(
  origin: string,
  mirror: string,
  worktreesDir: string,
  mode: Mode,
): Promise<{ durationsMs: Record<string, number> }> {
  const id = `b-${randomBytes(5).toString('hex')}`;
  const branch = `bench/${id}`;
  const worktree = join(worktreesDir, id);
  const gitdir = join(worktreesDir, `${id}.git`);
  const durationsMs: Record<string, number> = {};
  let mark = now();
  const phase = (name: string) => {
    const t = now();
    durationsMs[name] = round1(t - mark);
    mark = t;
  };
  await ensureBaselineMirror(origin, mirror);
  const base = await gitPrepare(origin, mirror, gitdir, worktree, branch);
  phase('preparing');
  await run('bash', ['-c', AGENT_COMMAND[mode]], worktree);
  phase('running_agent');
  const g = (...args: string[]) => git(worktree, `--git-dir=${gitdir}`, `--work-tree=${worktree}`, ...args);
  await commitAndPush({ id, origin, mirror, branch, base, mode, g });
  phase('committing');
  rmSync(worktree, { recursive: true, force: true });
  rmSync(gitdir, { recursive: true, force: true });
  phase('cleaning_up');
  return { durationsMs };
}
