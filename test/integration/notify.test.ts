import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import { DroverClient } from '../../src/client.js';
import type { DroverConfigInput } from '../../src/config/schema.js';
import { NotifyPayload } from '../../src/shared/schemas.js';
import { workflowBundle } from '../../src/worker.js';
import {
  agentScript,
  drover,
  historyText,
  makeRepo,
  startTestEnv,
  startTestServer,
  type TestServer,
  tempDir,
  testConfig,
  waitFor,
  workerProcess,
} from '../support/harness.js';

/** Asks on its first run; on the next run writes the answer into greeting.txt. */
const ASKING_AGENT = `
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then
  printf '{"question": "Which greeting should I write?"}' > "$DROVER_QUESTION_FILE"
  exit 0
fi
cat "$DROVER_ANSWER_FILE" > greeting.txt`;

const UI = 'http://ui.example.test:8233';

interface Received {
  path: string;
  event: string;
  delivery: string;
  signed: boolean;
  valid: boolean;
  body: string;
  at: number;
}

/** A webhook receiver on 127.0.0.1 that checks each delivery's HMAC the way a real one would. */
function receiver(secret: string) {
  const got: Received[] = [];
  let server: Server | undefined;
  const verify = (body: string, header: string | undefined) => {
    const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    return header !== undefined && header.length === want.length && timingSafeEqual(want, Buffer.from(header));
  };
  return {
    got,
    /** Deliveries by delivery id, as a receiver that dedupes keeps them. */
    unique: () => [...new Map(got.map((g) => [g.delivery, g])).values()],
    listen(port = 0): Promise<number> {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const sig = req.headers['x-drover-signature'] as string | undefined;
          const event = String(req.headers['x-drover-event']);
          got.push({
            path: req.url ?? '',
            event,
            delivery: String(req.headers['x-drover-delivery']),
            signed: !!sig,
            valid: verify(body, sig),
            body,
            at: Date.now(),
          });
          res.end('ok');
        });
      });
      return new Promise((resolve) => server!.listen(port, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port)));
    },
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

/** A port nobody listens on yet: the receiver that is "down" starts on it later. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const hookConfig = (port: number, events: string[]): DroverConfigInput =>
  ({
    ui: { url: UI },
    notify: {
      jobWebhookAllow: ['http://127.0.0.1:*/**'],
      webhooks: [{ url: `http://127.0.0.1:${port}/worker`, events, secretEnv: 'DROVER_TEST_HOOK_SECRET' }],
    },
  }) as DroverConfigInput;

describe('notifications', () => {
  let server: TestServer;
  const cleanups: (() => Promise<unknown>)[] = [];
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await server?.stop();
  });

  async function historiesText(client: DroverClient, ids: string[]): Promise<string> {
    const texts = await Promise.all(ids.map(async (id) => historyText(await client.client.workflow.getHandle(id).fetchHistory())));
    return texts.join('\n');
  }

  /** The histories with notifications replay through the workflow code: the notify path is deterministic. */
  async function replays(client: DroverClient, ids: string[]): Promise<void> {
    const bundle = await workflowBundle();
    for (const id of ids)
      await Worker.runReplayHistory({ workflowBundle: bundle }, await client.client.workflow.getHandle(id).fetchHistory(), id);
  }

  it('delivers waiting_for_human, then succeeded, signed, to worker hooks, job hooks and a command; no secret in any history', async () => {
    const secret = `hook-${randomBytes(12).toString('hex')}`;
    const hooks = receiver(secret);
    const port = await hooks.listen();
    cleanups.push(() => hooks.close());
    const out = join(tempDir('drover-notify-cmd-'), 'payloads.jsonl');
    const command = agentScript(`cat >> "${out}"; echo >> "${out}"`);
    const config = hookConfig(port, ['waiting_for_human', 'succeeded']);
    config.notify!.commands = [{ argv: ['bash', command], events: ['succeeded'], timeout: '10s' }];
    const env = await startTestEnv(server.address, config, { DROVER_TEST_HOOK_SECRET: secret });
    cleanups.push(() => env.stop());

    const repo = makeRepo();
    const { jobId } = await env.client.submit({
      repo,
      prompt: 'Write a greeting; ask me which one',
      agent: { kind: 'command', argv: ['bash', agentScript(ASKING_AGENT)] },
      notify: { webhooks: [{ url: `http://127.0.0.1:${port}/job`, events: ['succeeded', 'failed'] }] },
    });
    const asked = await waitFor('waiting_for_human at the worker hook', () => hooks.got.find((g) => g.event === 'waiting_for_human'));
    assert.equal(
      hooks.got.some((g) => g.event === 'succeeded'),
      false,
      'nothing but the question before the answer',
    );
    const answered = await drover(env.config, ['answer', jobId, 'Ahoy']);
    assert.equal(answered.code, 0, answered.stderr);
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    await waitFor(
      'succeeded at both hooks and the command',
      () => hooks.got.filter((g) => g.event === 'succeeded').length === 2 && existsSync(out),
    );

    const worker = hooks.got.filter((g) => g.path === '/worker');
    assert.deepEqual(
      worker.map((g) => g.event),
      ['waiting_for_human', 'succeeded'],
    );
    assert.ok(
      worker.every((g) => g.signed && g.valid),
      'the worker hook gets valid signatures',
    );
    assert.deepEqual(
      worker.map((g) => g.delivery),
      [`${jobId}.notify-waiting_for_human-1`, `${jobId}.notify-succeeded-1`],
    );
    const question = NotifyPayload.parse(JSON.parse(asked.body));
    assert.equal(question.status, 'waiting_for_human');
    assert.equal(question.question, 'Which greeting should I write?');
    const done = NotifyPayload.parse(JSON.parse(worker[1]!.body));
    assert.deepEqual(
      { jobId: done.jobId, status: done.status, branch: done.branch, commit: done.commit, repo: done.repo, agent: done.agent },
      { jobId, status: 'succeeded', branch: `drover/${jobId}`, commit: result.commit ?? undefined, repo, agent: 'command' },
    );
    assert.equal(done.uiUrl, `${UI}/namespaces/default/workflows/${encodeURIComponent(jobId)}`);
    assert.ok(!Number.isNaN(Date.parse(done.at)));
    const job = hooks.got.filter((g) => g.path === '/job');
    assert.deepEqual(
      job.map((g) => [g.event, g.signed]),
      [['succeeded', false]],
      'job hooks are unsigned without notify.jobSecret',
    );
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8').trim()), done);

    const everything =
      hooks.got.map((g) => g.body).join('\n') + (await historiesText(env.client, worker.map((g) => g.delivery).concat(jobId)));
    assert.ok(everything.includes('Which greeting'), 'the histories were read');
    assert.equal(everything.includes(secret), false, 'the secret is in no payload and no history');
    await replays(env.client, [jobId, ...worker.map((g) => g.delivery)]);
  });

  it('still delivers both events when the receiver is down for the first 10 s, after the job has ended', async () => {
    const secret = `hook-${randomBytes(12).toString('hex')}`;
    const hooks = receiver(secret);
    cleanups.push(() => hooks.close());
    const port = await freePort();
    const env = await startTestEnv(server.address, hookConfig(port, ['waiting_for_human', 'succeeded']), {
      DROVER_TEST_HOOK_SECRET: secret,
    });
    cleanups.push(() => env.stop());
    const started = Date.now();
    const { jobId } = await env.client.submit({
      repo: makeRepo(),
      prompt: 'Ask, then greet',
      agent: { kind: 'command', argv: ['bash', agentScript(ASKING_AGENT)] },
    });
    await waitFor('the question', async () => (await env.client.status(jobId)).status?.pendingQuestion ?? undefined);
    await env.client.answer(jobId, 'Hello');
    assert.equal((await env.client.result(jobId)).status, 'succeeded');
    await delay(Math.max(0, 10_000 - (Date.now() - started)));
    const upAt = Date.now();
    await hooks.listen(port);
    await waitFor('both events', () => hooks.unique().length === 2 || undefined, 120_000);
    assert.deepEqual(
      hooks
        .unique()
        .map((g) => g.event)
        .sort(),
      ['succeeded', 'waiting_for_human'],
    );
    assert.ok(hooks.got.every((g) => g.valid && g.at >= upAt));
  });

  it('sends cancelled for a job cancelled while it waits, and adds nothing to a job whose events nobody wants', async () => {
    const hooks = receiver('unused-secret');
    const port = await hooks.listen();
    cleanups.push(() => hooks.close());
    const env = await startTestEnv(server.address, {
      notify: { webhooks: [{ url: `http://127.0.0.1:${port}/worker`, events: ['cancelled'] }] },
    });
    cleanups.push(() => env.stop());
    const { jobId } = await env.client.submit({
      repo: makeRepo(),
      prompt: 'Ask',
      agent: { kind: 'command', argv: ['bash', agentScript(ASKING_AGENT)] },
    });
    await waitFor('the question', async () => (await env.client.status(jobId)).status?.pendingQuestion ?? undefined);
    await env.client.cancel(jobId);
    const got = await waitFor('cancelled', () => hooks.got.find((g) => g.event === 'cancelled'));
    assert.equal(NotifyPayload.parse(JSON.parse(got.body)).status, 'cancelled');
    assert.equal(got.signed, false);
    assert.deepEqual(
      hooks.got.map((g) => g.event),
      ['cancelled'],
      'waiting_for_human was not subscribed',
    );

    const plain = await env.client.submit({ repo: makeRepo(), prompt: 'Quick', agent: { kind: 'command', command: 'echo a > a.txt' } });
    assert.equal((await env.client.result(plain.jobId)).status, 'succeeded');
    const events = (await env.client.handle(plain.jobId).fetchHistory()).events ?? [];
    assert.equal(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length, 0);
    await replays(env.client, [jobId, got.delivery]);
  });

  it('loses and duplicates nothing when the worker is killed with SIGKILL while a delivery is retrying', async () => {
    const secret = `hook-${randomBytes(12).toString('hex')}`;
    const hooks = receiver(secret);
    cleanups.push(() => hooks.close());
    const port = await freePort();
    const config = testConfig(server.address);
    const file = join(tempDir('drover-notify-config-'), 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ ...hookConfig(port, ['waiting_for_human', 'succeeded']), worker: { backends: ['command'], docker: false } }),
    );
    const workerEnv = { DROVER_CONFIG: file, DROVER_TEST_HOOK_SECRET: secret, DROVER_DOCKER: '0' };
    const client = await DroverClient.connect(config);
    cleanups.push(() => client.close());
    const first = await workerProcess(config, 'box-1', workerEnv);
    cleanups.push(async () => first.kill('SIGKILL'));

    const { jobId } = await client.submit({
      repo: makeRepo(),
      prompt: 'Ask, then greet',
      agent: { kind: 'command', argv: ['bash', agentScript(ASKING_AGENT)] },
    });
    const childId = `${jobId}.notify-waiting_for_human-1`;
    await waitFor('the delivery retrying', async () => {
      const d = await client.client.workflow
        .getHandle(childId)
        .describe()
        .catch(() => undefined);
      return (d?.raw.pendingActivities?.[0]?.attempt ?? 0) >= 2 || undefined;
    });
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    const second = await workerProcess(config, 'box-1', workerEnv);
    cleanups.push(async () => second.kill('SIGTERM'));
    await hooks.listen(port);
    await waitFor('waiting_for_human after the crash', () => hooks.got.find((g) => g.event === 'waiting_for_human'), 120_000);
    await client.answer(jobId, 'Hello');
    assert.equal((await client.result(jobId)).status, 'succeeded');
    await waitFor('succeeded', () => hooks.got.find((g) => g.event === 'succeeded'), 120_000);
    await delay(3_000); // room for a duplicate to show up

    assert.deepEqual(
      hooks.got.map((g) => g.event),
      ['waiting_for_human', 'succeeded'],
      'each event once',
    );
    assert.deepEqual(
      hooks.got.map((g) => g.delivery),
      [childId, `${jobId}.notify-succeeded-1`],
    );
    assert.ok(hooks.got.every((g) => g.valid));
  });
});
