import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { git, makeRepo, startTestEnv, startTestServer, type TestEnv } from '../support/harness.js';

describe('a job on a fresh local repo', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let env: TestEnv;
  before(async () => {
    server = await startTestServer();
    env = await startTestEnv(server.address);
  });
  after(async () => {
    await env?.stop();
    await server?.stop();
  });

  it('edits, validates, commits with trailers to drover/<id> in the origin, and removes the worktree', async () => {
    const repo = makeRepo();
    const { jobId } = await env.client.submit({
      repo,
      prompt: 'Say hello to the world in hello.txt',
      agent: { kind: 'command', command: 'echo "hello world" > hello.txt && echo edited' },
      validate: [{ name: 'has-world', command: 'grep -q world hello.txt' }],
    });
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.branch, `drover/${jobId}`);
    assert.ok(result.commit);
    assert.deepEqual(result.files, [{ path: 'hello.txt', added: 1, deleted: 1 }]);
    assert.equal(result.validations.length, 1);
    assert.equal(result.validations[0]?.checks[0]?.passed, true);

    // The branch is in the original repository, one commit on top of main, with the three trailers.
    const main = git(repo, 'rev-parse', 'main');
    assert.equal(git(repo, 'rev-parse', `drover/${jobId}`), result.commit);
    assert.equal(git(repo, 'rev-list', '--count', `main..drover/${jobId}`), '1');
    assert.equal(result.baseCommit, main);
    const body = git(repo, 'log', '-1', '--format=%B', `drover/${jobId}`);
    assert.match(body, new RegExp(`^Drover-Job: ${jobId}$`, 'm'));
    assert.match(body, /^Drover-Agent: command$/m);
    assert.match(body, new RegExp(`^Drover-Base: ${main}$`, 'm'));
    assert.equal(git(repo, 'show', `drover/${jobId}:hello.txt`), 'hello world');
    assert.doesNotMatch(git(repo, 'show', '--stat', '--format=', `drover/${jobId}`), /\.drover/);

    // The worktree is gone; the working copy of the origin is untouched.
    assert.equal(existsSync(`${env.config.dataDir}/worktrees/${jobId}`), false);
    assert.equal(git(repo, 'status', '--porcelain'), '');
  });
});
