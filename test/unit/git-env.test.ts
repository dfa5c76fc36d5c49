import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, makeRepo, REPO_ROOT, tempDir } from '../support/harness.js';

describe('git through src/git', () => {
  it("passes the worker's GIT_* variables on to git (simple-git strips them by default)", () => {
    const origin = makeRepo();
    const dir = tempDir();
    const script = `import { writeFileSync } from 'node:fs';
import { createGit } from '${REPO_ROOT}/src/git/git.ts';
const g = createGit({ timeouts: { clone: 60000, fetch: 60000, push: 60000, local: 60000 }, protocols: [] });
const mirror = '${join(dir, 'mirror.git')}';
const repo = { gitdir: '${join(dir, 'job.git')}', worktree: '${join(dir, 'wt')}' };
await g.syncMirror('${origin}', mirror, false, true, {});
const base = await g.resolveBase(mirror, 'HEAD', {});
await g.createJobRepo({ mirror, repo, branch: 'drover/j', sha: base, exclude: [] }, {});
writeFileSync(repo.worktree + '/new.txt', 'x\\n');
const sha = await g.commitJob({ repo, branch: 'drover/j', base, message: 'm', trailers: { 'Drover-Job': 'j' } }, {});
await g.pushCommit({ gitdir: repo.gitdir, url: '${origin}', local: true, branch: 'drover/j', sha, expected: null }, {});`;
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: '/nonexistent',
        // What npm exports to scripts, and what simple-git refuses unless told: git must work anyway.
        EDITOR: 'vi',
        PAGER: 'less',
        SSH_ASKPASS: '/bin/false',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'user.email',
        GIT_CONFIG_VALUE_0: 'from-env@example.com',
      },
    });
    assert.equal(git(origin, 'log', '-1', '--format=%ae', 'drover/j'), 'from-env@example.com');
  });
});
