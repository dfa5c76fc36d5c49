import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import fc from 'fast-check';
import { DroverClient, prepareJob } from '../../src/client.js';
import { jobSpecArb } from '../support/job-spec-arbitrary.js';
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
  // A config as a worker's operator would write it: the CLI applies the same policy at submit.
  const strictConfig = jobFile(
    'strict.yaml',
    'repos: {allow: ["/nowhere/**", "https://github.com/acme/*"]}\ndocker: {envAllow: ["ANTHROPIC_*"]}\n',
  );
  const cases: [string, (id: string) => string[], RegExp][] = [
    [
      'a repo path that does not exist',
      (id) => ['--id', id, '--repo', '/nonexistent/repo', ...ok],
      /repository path does not exist: \/nonexistent\/repo/,
    ],
    ['a directory that is not a git repository', (id) => ['--id', id, '--repo', tempDir(), ...ok], /not a git repository/],
    [
      'an empty prompt',
      (id) => ['--id', id, '--repo', repo, '--prompt', '   ', '--agent', 'command', '--agent-command', 'true'],
      /prompt: must not be empty/,
    ],
    [
      'a base ref that is an option',
      (id) => ['--id', id, '--repo', repo, '--base=--upload-pack=x', ...ok],
      /base: must not start with "-"/,
    ],
    ['a base ref with ..', (id) => ['--id', id, '--repo', repo, '--base', '../x', ...ok], /base: must not contain "\.\."/],
    ['an unknown agent kind', (id) => ['--id', id, '--repo', repo, '--prompt', 'x', '--agent', 'bogus'], /unknown agent kind "bogus"/],
    ['a malformed job file', (id) => ['--id', id, '--file', jobFile('bad.yaml', 'repo: [unclosed\nprompt: x\n')], /not valid YAML/],
    [
      'a job file with an unknown field',
      (id) => [
        '--id',
        id,
        '--file',
        jobFile('extra.yaml', `repo: ${repo}\nprompt: x\nagent: {kind: command, command: "true"}\nrepos: oops\n`),
      ],
      /Unrecognized key.*repos/,
    ],
    [
      'a job file with a bad validation step',
      (id) => [
        '--id',
        id,
        '--file',
        jobFile('steps.yaml', `repo: ${repo}\nprompt: x\nagent: {kind: command, command: "true"}\nvalidate: [{name: t}]\n`),
      ],
      /validate\.0\.command/,
    ],
    [
      'a job file that sets subtaskOf (only a parent job sets it)',
      (id) => [
        '--id',
        id,
        '--file',
        jobFile(
          'subtask-of.yaml',
          `repo: ${repo}\nprompt: x\nagent: {kind: command, command: "true"}\n` +
            'subtaskOf: {parent: p, depth: 1, host: "q@w", title: t, parentPrompt: x, parentAgent: {kind: command, command: "true"}}\n',
        ),
      ],
      /invalid job: subtaskOf: is set only by Drover/,
    ],
    ['an invalid job id', () => ['--id', '../escape', '--repo', repo, ...ok], /id: /],
    [
      'a token in the repository URL',
      (id) => ['--id', id, '--repo', 'https://ghp_0123456789abcdef@github.com/acme/app.git', ...ok],
      /repo: must not contain credentials .*credential helper, GIT_ASKPASS or an SSH key/,
    ],
    [
      'a password in the repository URL',
      (id) => ['--id', id, '--repo', 'https://me:hunter22@example.com/app.git', ...ok],
      /repo: must not contain credentials/,
    ],
    [
      'an ext:: URL',
      (id) => ['--id', id, '--repo', 'ext::sh -c touch% /tmp/pwned', ...ok],
      /repo: must not use a git remote helper \("ext::"\)/,
    ],
    [
      'a protocol the workers do not enable',
      (id) => ['--id', id, '--repo', 'http://example.com/app.git', ...ok],
      /protocol http is not enabled/,
    ],
    [
      'a repository outside repos.allow',
      (id) => ['--config', strictConfig, '--id', id, '--repo', repo, ...ok],
      /repository .* is not in repos\.allow/,
    ],
    [
      'a runtime.env name outside docker.envAllow',
      (id) => [
        '--config',
        strictConfig,
        '--id',
        id,
        '--repo',
        'https://github.com/acme/app.git',
        ...ok,
        '--runtime',
        'docker',
        '--runtime-env',
        'ANTHROPIC_API_KEY',
        '--runtime-env',
        'AWS_SECRET_ACCESS_KEY',
      ],
      /runtime\.env AWS_SECRET_ACCESS_KEY: not in docker\.envAllow/,
    ],
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

  it('starts no workflow for fuzzed specs the edge rejects (submitted through the client API)', async () => {
    const config = testConfig(server.address, { docker: { envAllow: ['ANTHROPIC_*'] } });
    const fuzzClient = await DroverClient.connect(config);
    try {
      const rejected: unknown[] = [];
      for (const spec of fc.sample(jobSpecArb(repo), 400)) {
        if (rejected.length >= 40) break;
        const accepted = await prepareJob(spec as never, config).then(
          () => true,
          () => false,
        );
        if (accepted) continue;
        rejected.push(spec);
        await assert.rejects(
          fuzzClient.submit(spec as never),
          (err: Error & { type?: string }) => !!err.type && !err.message.includes('\n'),
        );
      }
      assert.equal(rejected.length, 40);
      assert.equal((await fuzzClient.client.workflow.count(`TaskQueue = '${config.taskQueue}'`)).count, 0);
    } finally {
      await fuzzClient.close();
    }
  });

  it('rejects the same bad input through the client API, before any workflow starts', async () => {
    await assert.rejects(client.submit({ repo, prompt: '', agent: { kind: 'command', command: 'true' } }), /prompt: must not be empty/);
    await assert.rejects(
      client.submit({ repo, prompt: 'x', agent: { kind: 'nope' } as never }),
      (err: Error & { type?: string }) => err.type === 'InvalidInput' && /agent/.test(err.message),
    );
    assert.equal((await client.client.workflow.count(`TaskQueue = '${config.taskQueue}'`)).count, 0);
  });
});
