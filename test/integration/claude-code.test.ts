/**
 * The real Claude Code CLI (@anthropic-ai/claude-code from npm), driven by a real worker against the real dev
 * server, talking to the scripted model server instead of Anthropic.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dataPaths } from '../../src/config/paths.js';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import { agentWorkerEnv } from '../support/agent-env.js';
import {
  drover,
  git,
  historyText,
  makeRepo,
  REPO_ROOT,
  startTestEnv,
  startTestServer,
  tempDir,
  waitFor,
  type TestEnv,
  type TestServer,
} from '../support/harness.js';
import { requestText, startModelServer, type ModelServer, type RecordedRequest } from '../support/model-server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('claude-code backend (real CLI)', () => {
  let server: TestServer;
  let model: ModelServer;
  let env: TestEnv;
  const apiKey = `sk-ant-test-${randomBytes(16).toString('hex')}`;

  before(async () => {
    server = await startTestServer();
    model = await startModelServer();
    env = await startTestEnv(
      server.address,
      { worker: { backends: ['claude-code'] }, agents: { 'claude-code': { model: 'claude-sonnet-4-5', afterResultGrace: '2s' } } },
      agentWorkerEnv(model, apiKey),
    );
  });
  after(async () => {
    await env?.stop();
    await model?.close();
    await server?.stop();
  });

  const job = (repo: string, extra: Partial<JobSpecInput> = {}): JobSpecInput => ({
    repo,
    prompt: 'Write a greeting to greeting.txt',
    agent: { kind: 'claude-code' },
    validate: [{ name: 'greeting exists', command: 'test -s greeting.txt' }],
    ...extra,
  });

  const agentStarts = (jobId: string) =>
    readFileSync(dataPaths(env.config.dataDir).jobLog(jobId), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; text: string; argv?: string[] })
      .filter((e) => e.source === 'drover' && e.argv);

  async function assertNoSecret(jobId: string) {
    const text = historyText(await env.client.handle(jobId).fetchHistory());
    assert.ok(!text.includes(apiKey), 'the API key is nowhere in the workflow history');
  }

  it('edits a file through a scripted tool call, validates, commits; the result has the session and usage', async () => {
    model.script([{ write: { path: 'greeting.txt', content: 'Hello from Claude\n' } }, { say: 'Wrote greeting.txt.' }]);
    const repo = makeRepo();
    const { jobId } = await env.client.submit(job(repo));
    const result = await env.client.result(jobId);

    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Hello from Claude');
    assert.match(result.agentSession ?? '', UUID);
    assert.ok(result.usage && result.usage.inputTokens > 0 && result.usage.outputTokens > 0, JSON.stringify(result.usage));
    assert.ok((result.usage?.costUsd ?? 0) > 0, 'Claude reports a cost');
    assert.equal(result.usage?.turns, 2);
    const main = model.requests.filter((r) => r.main);
    assert.ok(main.length >= 2);
    assert.equal(main[0]?.headers['x-api-key'], apiKey, 'the key came from the worker environment');

    const logs = await drover(env.config, ['logs', jobId]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /✎ Write .*greeting\.txt/);
    assert.match(logs.stdout, /Σ 2 turns/);
    const raw = await drover(env.config, ['logs', jobId, '--json']);
    const rawTypes = raw.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { source: string; text: string })
      .filter((e) => e.source === 'agent' && e.text.startsWith('{'))
      .map((e) => (JSON.parse(e.text) as { type: string }).type);
    assert.ok(rawTypes.includes('system') && rawTypes.includes('result'), `raw CLI events are kept: ${rawTypes.join(',')}`);
    await assertNoSecret(jobId);
  });

  it('routes AskUserQuestion to `drover answer` and resumes the same session with the answer', async () => {
    const question = 'Which greeting should I write?';
    model.script([
      { ask: { question, options: ['Hello', 'Howdy'] } },
      // The scripted model writes whatever answer the tool result carries.
      (req: RecordedRequest) => ({
        write: { path: 'greeting.txt', content: `${/=\\?"([^"\\]+)\\?"/.exec(lastToolResult(req))?.[1] ?? 'no answer seen'}\n` },
      }),
      { say: 'Done.' },
    ]);
    const repo = makeRepo();
    const { jobId } = await env.client.submit(job(repo));

    const asked = await waitFor('the question', async () => (await env.client.status(jobId)).status?.pendingQuestion ?? undefined);
    assert.equal(asked, `${question} (options: Hello | Howdy)`);
    const status = await drover(env.config, ['status', jobId, '--json']);
    const report = JSON.parse(status.stdout);
    assert.equal(report.phase, 'waiting_for_human');
    assert.match(report.status.agentSession, UUID);

    const answered = await drover(env.config, ['answer', jobId, 'Howdy partner']);
    assert.equal(answered.code, 0, answered.stderr);
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Howdy partner');

    const starts = agentStarts(jobId);
    assert.equal(starts.length, 2);
    const session = report.status.agentSession as string;
    assert.ok(!starts[0]!.argv!.some((a) => a.startsWith('--resume')));
    assert.ok(starts[1]!.argv!.includes(`--resume=${session}`), `second run resumes ${session}: ${starts[1]!.argv!.join(' ')}`);
    assert.equal(result.agentSession, session);
    await assertNoSecret(jobId);
  });

  it('kills a CLI that goes quiet (the model stalls) with the idle watchdog and retries, resuming the session', async () => {
    model.script([{ stall: true }, { write: { path: 'greeting.txt', content: 'after the stall\n' } }, { say: 'Done.' }]);
    const repo = makeRepo();
    const { jobId } = await env.client.submit(job(repo, { timeouts: { agentIdle: '4s' } }));
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'after the stall');

    const history = await env.client.handle(jobId).fetchHistory();
    const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes?.lastFailure) ?? [];
    assert.ok(started.some((e) => /printed nothing for 4s/.test(e.activityTaskStartedEventAttributes?.lastFailure?.message ?? '')));
    const starts = agentStarts(jobId);
    assert.equal(starts.length, 2);
    assert.match(starts[1]!.text, /attempt 2, resuming session .*continuing the interrupted session/);
  });

  it('ends a CLI that prints its result and then hangs, and the job still succeeds', async () => {
    // A wrapper that runs the real CLI and then never exits while holding its output open: the hang
    // reported against several CLIs (claude-code #25629, codex #8744).
    const dir = tempDir('drover-hang-');
    const wrapper = join(dir, 'claude-then-hang');
    const real = `${REPO_ROOT}/node_modules/.bin/claude`;
    writeFileSync(wrapper, `#!/bin/bash\n[ "$1" = --version ] && exec "${real}" --version\n"${real}" "$@"\nexec sleep 3600\n`);
    chmodSync(wrapper, 0o755);
    const hanging = await startTestEnv(
      server.address,
      {
        worker: { backends: ['claude-code'] },
        agents: { 'claude-code': { command: wrapper, model: 'claude-sonnet-4-5', afterResultGrace: '2s' } },
      },
      agentWorkerEnv(model, apiKey),
    );
    try {
      model.script([{ write: { path: 'greeting.txt', content: 'then hang\n' } }, { say: 'Done.' }]);
      const repo = makeRepo();
      const { jobId } = await hanging.client.submit(job(repo, { timeouts: { agentIdle: '10m' } }));
      const result = await hanging.client.result(jobId);
      assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
      const log = readFileSync(dataPaths(hanging.config.dataDir).jobLog(jobId), 'utf8');
      assert.match(log, /still running 2s after its final result; stopping it/);
      assert.match(log, /agent ended: finished/);
    } finally {
      await hanging.stop();
    }
  });

  it('fails an auth error (401) at once, without retrying', async () => {
    model.script([{ fail: 401 }, { write: { path: 'greeting.txt', content: 'never\n' } }]);
    const before = model.requests.filter((r) => r.main).length;
    const repo = makeRepo();
    const { jobId } = await env.client.submit(job(repo));
    const report = await waitFor('the job to end', async () => {
      const r = await env.client.status(jobId);
      return r.execution === 'RUNNING' ? undefined : r;
    });
    assert.equal(report.failure?.type, 'AgentAuthFailed');
    assert.match(report.failure?.message ?? '', /HTTP 401/);
    assert.equal(model.requests.filter((r) => r.main).length - before, 1, 'one model call: no retry');
    const cli = await drover(env.config, ['result', jobId]);
    assert.equal(cli.code, 1);
    await assertNoSecret(jobId);
  });

  for (const [status, type] of [
    [429, 'AgentRateLimited'],
    [500, 'AgentModelError'],
  ] as const) {
    it(`retries a ${status} from the model with backoff as ${type}, and succeeds`, async () => {
      model.script([{ fail: status }, { write: { path: 'greeting.txt', content: `after ${status}\n` } }, { say: 'Done.' }]);
      const repo = makeRepo();
      const { jobId } = await env.client.submit(job(repo));
      const result = await env.client.result(jobId);
      assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
      assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), `after ${status}`);
      const history = await env.client.handle(jobId).fetchHistory();
      const retried = history.events?.find((e) => e.activityTaskStartedEventAttributes?.lastFailure);
      assert.equal(retried?.activityTaskStartedEventAttributes?.attempt, 2);
      assert.equal(retried?.activityTaskStartedEventAttributes?.lastFailure?.applicationFailureInfo?.type, type);
      await assertNoSecret(jobId);
    });
  }
});

function lastToolResult(req: RecordedRequest): string {
  const messages = (req.body.messages ?? []) as { role: string; content: unknown }[];
  const last = messages.at(-1);
  return last ? JSON.stringify(last.content) : requestText(req);
}
