import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, makeRepo, REPO_ROOT } from '../support/harness.js';

describe('git through src/git', () => {
  it("passes the worker's GIT_* variables on to git (simple-git strips them by default)", () => {
    const repo = makeRepo();
    const base = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'new.txt'), 'x\n');
    const script = `import { commitAll } from '${REPO_ROOT}/src/git/git.ts';
await commitAll({ worktree: '${repo}', base: '${base}', message: 'm', trailers: { 'Drover-Job': 'j' } });`;
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: '/nonexistent',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'user.email',
        GIT_CONFIG_VALUE_0: 'from-env@example.com',
      },
    });
    assert.equal(git(repo, 'log', '-1', '--format=%ae'), 'from-env@example.com');
  });
});
