import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSpares } from '../../src/activities/spares.js';
import { createGit } from '../../src/git/git.js';
import { git, makeRepo, tempDir, waitFor } from '../support/harness.js';

const gitApi = createGit({ timeouts: { clone: 60_000, fetch: 60_000, push: 60_000, local: 60_000 }, protocols: [] });

/** A mirror of a repository with two commits: the spare is made at the first, the job wants the second. */
async function mirrorWithTwoCommits() {
  const origin = makeRepo({ 'a.txt': 'one\n', 'b.txt': 'unchanged\n', 'gone.txt': 'bye\n' });
  const first = git(origin, 'rev-parse', 'HEAD');
  writeFileSync(join(origin, 'a.txt'), 'two\n');
  git(origin, 'rm', '-q', 'gone.txt');
  git(origin, 'commit', '-qam', 'second');
  const second = git(origin, 'rev-parse', 'HEAD');
  const data = tempDir('drover-spares-');
  const mirror = join(data, 'mirrors', 'm.git');
  await gitApi.syncMirror(origin, mirror, false, true, {});
  return { data, mirror, first, second };
}

describe('spare checkouts', () => {
  it("makes one for a slow repository, hands it to one job only, and brings it to the job's commit", async () => {
    const { data, mirror, first, second } = await mirrorWithTwoCommits();
    const spares = createSpares({ dir: join(data, 'spares'), git: gitApi, perRepo: 1, maxRepos: 4, slowMs: 0 });
    spares.noteCheckout(mirror, 1_000);
    spares.replenish(mirror, first);
    const spare = await waitFor('a spare', () => spares.take(mirror), 10_000);
    assert.equal(spare.sha, first);
    assert.equal(spares.take(mirror), undefined, 'a spare is handed out once');

    const repo = { gitdir: join(data, 'jobs', 'j', 'git'), worktree: join(data, 'worktrees', 'j') };
    await gitApi.adoptSpare({ mirror, repo, branch: 'drover/j', sha: second, exclude: [], spareDir: spare.dir, spareSha: spare.sha }, {});
    assert.equal(readFileSync(join(repo.worktree, 'a.txt'), 'utf8'), 'two\n');
    assert.equal(existsSync(join(repo.worktree, 'gone.txt')), false);
    const status = git(repo.worktree, `--git-dir=${repo.gitdir}`, `--work-tree=${repo.worktree}`, 'status', '--porcelain');
    assert.equal(status, '', "the index matches the checkout of the job's commit");
    assert.equal(git(repo.worktree, `--git-dir=${repo.gitdir}`, 'rev-parse', 'HEAD'), second);
    await spares.close();
  });

  it("refuses a spare whose .gitattributes differ from the job's commit (a fresh checkout would differ)", async () => {
    const origin = makeRepo({ 'a.txt': 'one\n' });
    const first = git(origin, 'rev-parse', 'HEAD');
    writeFileSync(join(origin, '.gitattributes'), '*.txt text eol=crlf\n');
    git(origin, 'add', '.gitattributes');
    git(origin, 'commit', '-qm', 'attributes');
    const second = git(origin, 'rev-parse', 'HEAD');
    const data = tempDir('drover-spares-');
    const mirror = join(data, 'mirrors', 'm.git');
    await gitApi.syncMirror(origin, mirror, false, true, {});
    const spareDir = join(data, 'spare');
    await gitApi.makeSpare({ mirror, dir: spareDir, sha: first }, {});
    const repo = { gitdir: join(data, 'jobs', 'j', 'git'), worktree: join(data, 'worktrees', 'j') };
    await assert.rejects(
      gitApi.adoptSpare({ mirror, repo, branch: 'drover/j', sha: second, exclude: [], spareDir, spareSha: first }, {}),
      /gitattributes changed/,
    );
  });

  it('keeps none for a repository whose checkout is fast, or when spareCheckouts is 0', async () => {
    const { data, mirror, first } = await mirrorWithTwoCommits();
    const fast = createSpares({ dir: join(data, 'spares'), git: gitApi, perRepo: 1, maxRepos: 4 });
    fast.noteCheckout(mirror, 5);
    fast.replenish(mirror, first);
    const off = createSpares({ dir: join(data, 'spares-off'), git: gitApi, perRepo: 0, maxRepos: 4, slowMs: 0 });
    off.noteCheckout(mirror, 1_000);
    off.replenish(mirror, first);
    await Promise.all([fast.close(), off.close()]);
    assert.equal(fast.take(mirror), undefined);
    assert.equal(off.take(mirror), undefined);
  });

  it('removes at start what an earlier worker left', async () => {
    const { data, mirror, first } = await mirrorWithTwoCommits();
    const one = createSpares({ dir: join(data, 'spares'), git: gitApi, perRepo: 1, maxRepos: 4, slowMs: 0 });
    one.noteCheckout(mirror, 1_000);
    one.replenish(mirror, first);
    await one.close();
    const two = createSpares({ dir: join(data, 'spares'), git: gitApi, perRepo: 1, maxRepos: 4, slowMs: 0 });
    assert.equal(two.take(mirror), undefined);
    await two.close();
  });
});
