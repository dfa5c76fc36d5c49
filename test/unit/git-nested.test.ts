import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createGit, unquotePath } from '../../src/git/git.js';
import { git as sh, makeRepo, tempDir } from '../support/harness.js';

const git = createGit({ timeouts: { clone: 60_000, fetch: 60_000, push: 60_000, local: 60_000 }, protocols: [] });

describe('nested repositories in a worktree', () => {
  it('are never committed as submodule entries, whatever their names, and an existing submodule cannot be repointed', async () => {
    const host = makeRepo({ 'secret.txt': 'host\n' });
    const hostSha = sh(host, 'rev-parse', 'HEAD');
    const origin = makeRepo();
    const pinned = '1111111111111111111111111111111111111111';
    sh(origin, 'update-index', '--add', '--cacheinfo', `160000,${pinned},sub`);
    sh(origin, 'commit', '-q', '-m', 'a submodule');
    const dir = tempDir();
    const mirror = join(dir, 'mirror.git');
    const repo = { gitdir: join(dir, 'job.git'), worktree: join(dir, 'wt') };
    await git.syncMirror(origin, mirror, false, true, {});
    const base = await git.resolveBase(mirror, 'HEAD', {});
    await git.createJobRepo({ mirror, repo, branch: 'drover/j', sha: base, exclude: [] }, {});
    const names = [Buffer.from('raw\xff', 'latin1'), Buffer.from('-dash'), Buffer.from('new\nline'), Buffer.from('sub')];
    for (const name of names) {
      const d = Buffer.concat([Buffer.from(`${repo.worktree}/`), name]);
      mkdirSync(d, { recursive: true });
      writeFileSync(Buffer.concat([d, Buffer.from('/.git')]), `gitdir: ${host}/.git\n`);
    }
    writeFileSync(join(repo.worktree, 'real.txt'), 'kept\n');
    const sha = await git.commitJob({ repo, branch: 'drover/j', base, message: 'm', trailers: { 'Drover-Job': 'j' } }, {});
    assert.ok(sha);
    const tree = sh(repo.worktree, `--git-dir=${repo.gitdir}`, 'ls-tree', '-r', sha!);
    assert.ok(!tree.includes(hostSha), "the host repository's commit is recorded nowhere");
    assert.match(tree, new RegExp(`^160000 commit ${pinned}\\tsub$`, 'm'), 'the submodule keeps its pin');
    assert.equal(tree.split('\n').filter((l) => l.startsWith('160000')).length, 1);
    assert.match(tree, /\treal\.txt$/m);
  });

  it('reads paths the way git quotes them', () => {
    assert.deepEqual(unquotePath('plain/path'), Buffer.from('plain/path'));
    assert.deepEqual(unquotePath('"raw\\377"'), Buffer.from([0x72, 0x61, 0x77, 0xff]));
    assert.deepEqual(unquotePath('"new\\nline \\"q\\" \\\\"'), Buffer.from('new\nline "q" \\'));
  });
});
