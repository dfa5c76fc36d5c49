/**
 * Preparing a workspace when the mirror exists, against `git worktree add` and a fresh clone. The prepare and
 * worktree arms time only making the checkout (its removal afterwards is not timed); the clone arms time the
 * whole clone.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Git } from '../../../src/git/git.js';
import { gitPrepare } from '../baseline.js';
import type { BenchRun, BenchScenario } from '../context.js';
import { armMeta, interleaved } from '../measure.js';
import type { RepoFixture } from '../repos.js';
import { git, now } from '../shared.js';

/** What prepareWorkspace does, through raw git or through Drover's src/git. */
async function prepareMs({ repo, mirror, worktrees }: RepoFixture, srcGit: Git | undefined): Promise<number> {
  const id = `p-${randomBytes(5).toString('hex')}`;
  const wt = join(worktrees, id);
  const t = now();
  const gitdir = `${wt}.git`;
  if (srcGit) {
    await srcGit.syncMirror(repo.path, mirror, true, true, {});
    const sha = await srcGit.resolveBase(mirror, 'HEAD', {});
    await srcGit.createJobRepo({ mirror, repo: { gitdir, worktree: wt }, branch: `bench/${id}`, sha, exclude: ['/.drover/'] }, {});
  } else {
    await gitPrepare(repo.path, mirror, gitdir, wt, `bench/${id}`);
  }
  const ms = now() - t;
  rmSync(wt, { recursive: true, force: true });
  rmSync(gitdir, { recursive: true, force: true });
  return ms;
}

async function worktreeAddMs({ mirror, worktrees }: RepoFixture): Promise<number> {
  const wt = join(worktrees, `w-${randomBytes(5).toString('hex')}`);
  const t = now();
  await git(mirror, 'worktree', 'add', '--quiet', '--detach', wt, 'refs/drover/origin-head');
  const ms = now() - t;
  rmSync(wt, { recursive: true, force: true });
  await git(mirror, 'worktree', 'prune');
  return ms;
}

async function cloneOnce({ clones }: RepoFixture, url: string): Promise<void> {
  const dir = join(clones, `c-${randomBytes(5).toString('hex')}`);
  await git(clones, 'clone', '--quiet', url, dir);
  rmSync(dir, { recursive: true, force: true });
}

async function run(bench: BenchRun, fixture: RepoFixture): Promise<void> {
  const { kind, path } = fixture.repo;
  const meta = (scenario: string) => armMeta(kind, scenario, 'git');
  await interleaved(
    bench.results,
    [
      { meta: meta('git: prepare (fetch + checkout)'), run: () => prepareMs(fixture, undefined), selfTimed: true },
      { meta: meta('src/git: prepare (simple-git)'), run: () => prepareMs(fixture, bench.srcGit), selfTimed: true },
      { meta: meta('git: worktree add'), run: () => worktreeAddMs(fixture), selfTimed: true },
      { meta: meta('git: fresh clone (local path)'), run: () => cloneOnce(fixture, path) },
      { meta: meta('git: fresh clone (file://)'), run: () => cloneOnce(fixture, `file://${path}`) },
    ],
    kind === 'large' ? bench.opts.largeGitSamples : bench.opts.gitSamples,
  );
}

export const prepareVsClone: BenchScenario = { name: 'prepare vs worktree add vs clone', scope: 'repo', run };
