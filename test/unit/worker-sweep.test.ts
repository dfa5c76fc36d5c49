import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dataPaths } from '../../src/config/paths.js';
import { createGit } from '../../src/git/git.js';
import { createHostRuntime } from '../../src/runtimes/host-runtime.js';
import { findLeftovers, sweep, type JobWhereabouts } from '../../src/worker/sweep.js';
import { git as sh, makeRepo, tempDir } from '../support/harness.js';

const git = createGit({ timeouts: { clone: 60_000, fetch: 60_000, push: 60_000, local: 60_000 }, protocols: [] });

describe('the worker sweep', () => {
  it('removes what finished and moved jobs left (worktrees, git and run dirs, slots, old mirror branches, half-made mirrors) and keeps the rest', async () => {
    const paths = dataPaths(tempDir('drover-sweep-'));
    const where: Record<string, JobWhereabouts> = {
      done: 'finished',
      moved: 'elsewhere',
      mine: 'here',
      busy: 'unknown',
      boxed: 'finished',
    };
    for (const id of ['done', 'moved', 'mine', 'busy']) {
      for (const dir of [paths.worktree(id), paths.jobGitDir(id), paths.jobRunDir(id)]) mkdirSync(dir, { recursive: true });
    }
    const slot = join(paths.dockerSlots(), 'abc123');
    mkdirSync(join(slot, 'boxed'), { recursive: true });
    mkdirSync(join(slot, '.home'), { recursive: true });
    // A mirror of the layout before job git directories, with a branch per job; and one a crash left half-made.
    const origin = makeRepo();
    mkdirSync(paths.mirrors(), { recursive: true });
    const mirror = join(paths.mirrors(), 'repo-1.git');
    sh(paths.mirrors(), 'clone', '-q', '--bare', origin, mirror);
    sh(mirror, 'branch', 'drover/done');
    sh(mirror, 'branch', 'drover/mine');
    const halfMade = join(paths.mirrors(), 'repo-2.git.tmp-1-2');
    mkdirSync(halfMade);

    const found = await findLeftovers(paths, git, true);
    assert.deepEqual([...found.keys()].sort(), ['boxed', 'busy', 'done', 'mine', 'moved']);
    assert.equal(existsSync(halfMade), false, 'a half-made mirror of a crashed worker goes at once');
    const report = await sweep(found, async (id) => where[id] ?? 'unknown', { git, runtime: createHostRuntime() });
    assert.deepEqual(report.swept.sort(), ['boxed', 'done', 'moved']);
    assert.deepEqual(report.kept.sort(), ['busy', 'mine']);
    for (const id of ['done', 'moved'])
      assert.equal(existsSync(paths.worktree(id)) || existsSync(paths.jobGitDir(id)) || existsSync(paths.jobRunDir(id)), false, id);
    for (const id of ['mine', 'busy']) assert.ok(existsSync(paths.worktree(id)) && existsSync(paths.jobGitDir(id)), id);
    assert.equal(existsSync(slot), false, 'the slot of a finished container job');
    assert.equal(sh(mirror, 'for-each-ref', '--format=%(refname)', 'refs/heads/drover/'), 'refs/heads/drover/mine');
  });
});
