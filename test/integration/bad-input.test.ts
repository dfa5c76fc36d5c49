import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DroverClient } from '../../src/client.js';
import type { DroverConfig } from '../../src/config/schema.js';
import { drover, makeRepo, startTestServer, tempDir, testConfig } from '../support/harness.js';

describe('bad input is rejected at submit', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let config: DroverConfig;
  let client: DroverClient;
  let repo: string;
  before(async () => {
    server = await startTestServer();
    config = testConfig(server.address);
    client = await DroverClient.connect(config);
    repo = makeRepo();
  });
  after(async () => {
    await client?.close();
    await server?.stop();
  });

  const dir = tempDir('drover-jobfiles-');
  const jobFile = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const ok = ['--prompt', 'do it', '--agent', 'command', '--agent-command', 'true'];
  const cases: [string, (id: string) => string[], RegExp][] = [
    ['a repo path that does not exist', (id) => ['--id', id, '--repo', '/nonexistent/repo', ...ok], /repository path does not exist: \/nonexistent\/repo/],
    ['a directory that is not a git repository', (id) => ['--id', id, '--repo', tempDir(), ...ok], /not a git repository/],
    ['an empty prompt', (id) => ['--id', id, '--repo', repo, '--prompt', '   ', '--agent', 'command', '--agent-command', 'true'], /prompt: must not be empty/],
    ['a base ref that is an option', (id) => ['--id', id, '--repo', repo, '--base=--upload-pack=x', ...ok], /base: must not start with "-"/],
    ['a base ref with ..', (id) => ['--id', id, '--repo', repo, '--base', '../x', ...ok], /base: must not contain "\.\."/],
    ['an unknown agent kind', (id) => ['--id', id, '--repo', repo, '--prompt', 'x', '--agent', 'bogus'], /unknown agent kind "bogus"/],
    ['a malformed job file', (id) => ['--id', id, '--file', jobFile('bad.yaml', 'repo: [unclosed\nprompt: x\n')], /not valid YAML/],
    ['a job file with an unknown field', (id) => ['--id', id, '--file', jobFile('extra.yaml', `repo: ${repo}\nprompt: x\nagent: {kind: command, command: "true"}\nrepos: oops\n`)], /Unrecognized key.*repos/],
    ['a job file with a bad validation step', (id) => ['--id', id, '--file', jobFile('steps.yaml', `repo: ${repo}\nprompt: x\nagent: {kind: command, command: "true"}\nvalidate: [{name: t}]\n`)], /validate\.0\.command/],
    ['an invalid job id', () => ['--id', '../escape', '--repo', repo, ...ok], /id: /],
  ];

  for (const [i, [what, args, message]] of cases.entries()) {
    it(`rejects ${what} with a one-line error and starts nothing`, async () => {
      const id = `bad-input-${i}`;
      const r = await drover(config, ['submit', ...args(id)]);
      assert.equal(r.code, 2, `exit code for ${what}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr, /^drover: /);
      await assert.rejects(client.handle(id).describe(), WorkflowNotFoundError);
    });
  }

  it('rejects the same bad input through the client API, before any workflow starts', async () => {
    await assert.rejects(client.submit({ repo, prompt: '', agent: { kind: 'command', command: 'true' } }), /prompt: must not be empty/);
    await assert.rejects(
      client.submit({ repo, prompt: 'x', agent: { kind: 'nope' } as never }),
      (err: Error & { type?: string }) => err.type === 'InvalidInput' && /agent/.test(err.message),
    );
    assert.equal((await client.client.workflow.count(`TaskQueue = '${config.taskQueue}'`)).count, 0);
  });
});
