import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createGit } from '../../src/git/git.js';
import { makeRepo, git as sh, tempDir } from '../support/harness.js';

const git = createGit({ timeouts: { clone: 60_000, fetch: 60_000, push: 60_000, local: 60_000 }, protocols: [] });

describe('subtasks in git', () => {
  it('merges a child that changed a file setup made, keeps an ignored file of the parent, and a retry changes nothing', async () => {
    const origin = makeRepo({ 'README.md': '# demo\n', 'gen.txt': 'base\n', '.gitignore': 'secret.env\n' });
    const dir = tempDir();
    const mirror = join(dir, 'mirror.git');
    await git.syncMirror(origin, mirror, false, true, {});
    const base = await git.resolveBase(mirror, 'HEAD', {});
    const parent = { gitdir: join(dir, 'p.git'), worktree: join(dir, 'p') };
    await git.createJobRepo({ mirror, repo: parent, branch: 'drover/p', sha: base, exclude: [] }, {});
    // Setup regenerates gen.txt (the parent's agent leaves it alone); the parent writes a file and an ignored one.
    writeFileSync(join(parent.worktree, 'gen.txt'), 'base\ngenerated\n');
    await git.markSetupTree(parent, base, {});
    writeFileSync(join(parent.worktree, 'parent.txt'), 'mine\n');
    writeFileSync(join(parent.worktree, 'secret.env'), 'KEY=parent\n');
    const ref = 'refs/drover/subtask-base/p';
    const { commit: snapshot } = await git.snapshotWorktree({ repo: parent, base, mirror, ref }, {});
    assert.notEqual(snapshot, base);
    assert.equal(sh(mirror, 'rev-parse', ref), snapshot);

    const child = { gitdir: join(dir, 'c.git'), worktree: join(dir, 'c') };
    await git.createJobRepo({ mirror, repo: child, branch: 'drover/p.s1', sha: snapshot, exclude: [] }, {});
    assert.equal(readFileSync(join(child.worktree, 'parent.txt'), 'utf8'), 'mine\n');
    writeFileSync(join(child.worktree, 'gen.txt'), 'base\ngenerated\nchild\n');
    writeFileSync(join(child.worktree, 'child.txt'), 'child\n');
    writeFileSync(join(child.worktree, 'secret.env'), 'KEY=child\n');
    sh(child.worktree, `--git-dir=${child.gitdir}`, 'add', '-f', 'gen.txt', 'child.txt', 'secret.env');
    sh(child.worktree, `--git-dir=${child.gitdir}`, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'child');
    const commit = sh(child.worktree, `--git-dir=${child.gitdir}`, 'rev-parse', 'HEAD');
    sh(child.worktree, `--git-dir=${child.gitdir}`, 'push', '-q', mirror, `${commit}:refs/heads/drover/p.s1`);

    const req = { repo: parent, snapshot, commits: [commit] };
    const out = await git.mergeIntoWorktree(req, {});
    assert.deepEqual(out, { conflicts: ['secret.env'] });
    const read = (f: string) => readFileSync(join(parent.worktree, f), 'utf8');
    assert.equal(read('gen.txt'), 'base\ngenerated\nchild\n');
    assert.equal(read('child.txt'), 'child\n');
    assert.equal(read('parent.txt'), 'mine\n');
    assert.equal(read('secret.env'), 'KEY=parent\n');
    assert.equal(sh(parent.worktree, `--git-dir=${parent.gitdir}`, 'ls-files', 'secret.env'), '');
    // The activity retried after its checkout went through: the same worktree, no error.
    assert.deepEqual(await git.mergeIntoWorktree(req, {}), { conflicts: ['secret.env'] });
    assert.equal(read('child.txt'), 'child\n');
    assert.equal(read('secret.env'), 'KEY=parent\n');
    const sha = await git.commitJob({ repo: parent, branch: 'drover/p', base, message: 'm', trailers: { 'Drover-Job': 'p' } }, {});
    const files = sh(parent.worktree, `--git-dir=${parent.gitdir}`, 'ls-tree', '-r', '--name-only', sha!).split('\n');
    assert.deepEqual(files.sort(), ['.gitignore', 'README.md', 'child.txt', 'gen.txt', 'parent.txt']);
  });
});
