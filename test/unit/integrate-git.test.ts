import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createGit, integratedMessage } from '../../src/git/git.js';
import { integrationIdFor, integrationRunIdFor, jobIdProblem } from '../../src/shared/ids.js';
import { JobId } from '../../src/shared/schemas.js';
import { git as sh, makeRepo } from '../support/harness.js';

const git = createGit({ timeouts: { clone: 60_000, fetch: 60_000, push: 60_000, local: 60_000 }, protocols: [] });
const gitdir = (repo: string) => join(repo, '.git');

/** main and a branch `job` from the same commit, each writing `file`. */
function forked(mainContent: string, jobContent: string, file = 'hello.txt'): string {
  const repo = makeRepo();
  sh(repo, 'checkout', '-q', '-b', 'job');
  writeFileSync(join(repo, file), jobContent);
  sh(repo, 'commit', '-qam', 'job change\n\nDrover-Job: j1');
  sh(repo, 'checkout', '-q', 'main');
  writeFileSync(join(repo, 'other.txt'), 'other\n');
  if (mainContent) writeFileSync(join(repo, file), mainContent);
  sh(repo, 'add', '-A');
  sh(repo, 'commit', '-qm', 'main moves');
  return repo;
}

describe('merging for the merge queue (real git)', () => {
  it('merges a job onto a moved target cleanly, into a tree with both changes', async () => {
    const repo = forked('', 'job\n');
    const out = await git.mergeTrees(gitdir(repo), 'main', 'job', {});
    assert.deepEqual(out.conflicts, []);
    const commit = await git.commitTree(gitdir(repo), { tree: out.tree, parents: [sh(repo, 'rev-parse', 'main')], message: 'm' }, {});
    assert.equal(sh(repo, 'show', `${commit}:hello.txt`), 'job');
    assert.equal(sh(repo, 'show', `${commit}:other.txt`), 'other');
    assert.equal(sh(repo, 'log', '-1', '--format=%an', commit), 'Drover');
  });

  it('names the conflicting files and leaves markers in the tree', async () => {
    const repo = forked('main side\n', 'job side\n');
    const out = await git.mergeTrees(gitdir(repo), 'main', 'job', {});
    assert.deepEqual(out.conflicts, ['hello.txt']);
    const text = sh(repo, 'cat-file', '-p', `${out.tree}:hello.txt`);
    assert.match(text, /^<<<<<<< /m);
    assert.match(text, /^>>>>>>> /m);
  });

  it('finds a job already landed on the target by its trailers', async () => {
    const repo = forked('', 'job\n');
    const jobMessage = await git.commitMessage(gitdir(repo), 'job', {});
    const { tree } = await git.mergeTrees(gitdir(repo), 'main', 'job', {});
    const landed = await git.commitTree(
      gitdir(repo),
      { tree, parents: [sh(repo, 'rev-parse', 'main')], message: integratedMessage(jobMessage, 'main', sh(repo, 'rev-parse', 'job')) },
      {},
    );
    sh(repo, 'update-ref', 'refs/heads/main', landed);
    const from = sh(repo, 'rev-parse', 'job');
    assert.equal(await git.landedCommit(gitdir(repo), { target: 'main', from, into: 'main' }, {}), landed);
    assert.equal(await git.landedCommit(gitdir(repo), { target: 'main', from, into: 'release' }, {}), null);
    assert.equal(await git.landedCommit(gitdir(repo), { target: 'main', from: sh(repo, 'rev-parse', 'main^'), into: 'main' }, {}), null);
    assert.equal(await git.isAncestor(gitdir(repo), 'job^', 'main', {}), true);
    assert.equal(await git.isAncestor(gitdir(repo), 'job', 'main^', {}), false);
    // The trailer joins the job's trailer block.
    assert.match(
      sh(repo, 'log', '-1', '--format=%(trailers:only)', landed),
      /Drover-Job: j1\nDrover-Integrated-Into: main\nDrover-Integrated-From: [0-9a-f]{40}/,
    );
  });
});

describe('merge queue ids', () => {
  it('gives each repository and target its own readable workflow id', () => {
    const a = integrationIdFor('/srv/a/repo', 'main');
    assert.match(a, /^drover-integrate-a-repo-main-[0-9a-f]{8}$/);
    assert.notEqual(a, integrationIdFor('/srv/b/a/repo', 'main'), 'same slug, another repository');
    assert.notEqual(a, integrationIdFor('/srv/a/repo', 'release/1.x'));
    assert.equal(a, integrationIdFor('/srv/a/repo', 'main'));
  });

  it('gives the integration run a valid job id of its own, even for the longest job ids', () => {
    for (const id of ['j1', 'x'.repeat(100), `${'a.'.repeat(49)}b`])
      assert.equal(jobIdProblem(integrationRunIdFor(id, 'main')), undefined, id);
    assert.notEqual(integrationRunIdFor(`${'x'.repeat(95)}1`, 'main'), integrationRunIdFor(`${'x'.repeat(95)}2`, 'main'));
    assert.notEqual(integrationRunIdFor('j1', 'main'), integrationRunIdFor('j1', 'release'), 'one worktree per target');
    assert.equal(JobId.safeParse('mine.integrate').success, false, 'no job id looks like a run of the queue');
  });
});
