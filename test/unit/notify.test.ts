import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createJobInputActivities } from '../../src/activities/job-input.js';
import { deliverEvent, signature } from '../../src/activities/notify.js';
import { type NotifyDeps, resolveNotify, subscribedEvents } from '../../src/activities/notify-targets.js';
import { toFailure } from '../../src/activities/to-failure.js';
import { DroverConfig } from '../../src/config/schema.js';
import { createHostRuntime } from '../../src/runtimes/host-runtime.js';
import { JobSpec, type NotifyDelivery, NotifyPayload } from '../../src/shared/schemas.js';
import { tempDir } from '../support/harness.js';

const SECRET = 'unit-test-hook-secret';
const verify = (secret: string, body: string, header: string | undefined) => {
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  return header !== undefined && want.length === header.length && timingSafeEqual(want, Buffer.from(header));
};

const delivery = (over: Partial<NotifyDelivery['payload']> = {}, jobWebhooks: string[] = []): NotifyDelivery => ({
  payload: {
    event: 'succeeded',
    jobId: 'job-1',
    status: 'succeeded',
    branch: 'drover/job-1',
    commit: 'a'.repeat(40),
    repo: '/srv/repo',
    agent: 'command',
    at: '2026-01-01T00:00:00.000Z',
    ...over,
  },
  jobWebhooks,
});

describe('notification signature and payload', () => {
  it('signs the raw body with HMAC-SHA256 as sha256=<hex>', () => {
    const body = '{"event":"succeeded"}';
    const sig = signature(SECRET, body);
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    assert.ok(verify(SECRET, body, sig));
    assert.ok(!verify('another-secret', body, sig));
    assert.ok(!verify(SECRET, `${body} `, sig));
  });

  it('accepts the payload it documents and nothing else', () => {
    assert.ok(NotifyPayload.safeParse({ ...delivery().payload, uiUrl: 'http://ui/x' }).success);
    assert.ok(!NotifyPayload.safeParse({ ...delivery().payload, secret: 'x' }).success, 'strict: no extra fields');
    assert.ok(!NotifyPayload.safeParse({ ...delivery().payload, event: 'started' }).success);
    assert.ok(!NotifyPayload.safeParse({ ...delivery().payload, failure: { type: 'X', message: 'm'.repeat(501) } }).success);
  });

  it('lets a job name webhooks by url and events only, without credentials', () => {
    const base = { repo: '/srv/repo', prompt: 'p', agent: { kind: 'command', command: 'true' } };
    const ok = JobSpec.safeParse({ ...base, notify: { webhooks: [{ url: 'https://hooks.example.com/d', events: ['succeeded'] }] } });
    assert.ok(ok.success);
    for (const webhook of [
      { url: 'https://user:pw@hooks.example.com/d', events: ['succeeded'] },
      { url: 'file:///etc/passwd', events: ['succeeded'] },
      { url: 'https://hooks.example.com/d', events: [] },
      { url: 'https://hooks.example.com/d', events: ['succeeded'], secret: 'nope' },
    ]) {
      assert.ok(!JobSpec.safeParse({ ...base, notify: { webhooks: [webhook] } }).success, JSON.stringify(webhook));
    }
  });

  it('resolves worker secrets from the environment, and refuses a secretEnv that is not set', () => {
    const config = {
      ...DroverConfig.parse({ notify: { webhooks: [{ url: 'http://127.0.0.1:1/', events: ['failed'], secretEnv: 'HOOK_SECRET' }] } }),
      dataDir: '/x',
    };
    const deps = resolveNotify(config, { HOOK_SECRET: SECRET });
    assert.deepEqual(deps.targets[0], { kind: 'webhook', url: 'http://127.0.0.1:1/', events: ['failed'], secret: SECRET });
    assert.throws(() => resolveNotify(config, {}), /secretEnv HOOK_SECRET is not set/);
    assert.deepEqual(subscribedEvents(deps), ['failed']);
    assert.deepEqual(subscribedEvents(undefined), []);
  });

  it('records only event names in the job, replaces a job-given workerEvents, and leaves other jobs untouched', async () => {
    const raw = { id: 'j1', repo: '/srv/repo', prompt: 'p', agent: { kind: 'command', command: 'true' } };
    const plain = await createJobInputActivities([]).checkJobInput(raw);
    assert.equal('notify' in plain, false);
    const forged = await createJobInputActivities([]).checkJobInput({ ...raw, notify: { workerEvents: ['failed'] } });
    assert.equal('notify' in forged, false, 'a job cannot claim worker subscriptions');
    const subscribed = await createJobInputActivities(['waiting_for_human', 'succeeded']).checkJobInput(raw);
    assert.deepEqual(subscribed.notify, { workerEvents: ['waiting_for_human', 'succeeded'] });
  });
});

describe('deliverEvent', () => {
  const got: { headers: IncomingHttpHeaders; body: string; path: string }[] = [];
  let status = 200;
  let base = '';
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body, path: req.url ?? '' });
      res.statusCode = status;
      res.end();
    });
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const run = (done = new Set<string>()) => ({ id: 'job-1.notify-succeeded-1', signal: new AbortController().signal, done });

  it('posts signed to worker hooks, unsigned to job hooks without a job secret, and pipes the payload to a command', async () => {
    got.length = 0;
    const out = join(tempDir('drover-notify-'), 'payload.json');
    const deps: NotifyDeps = {
      namespace: 'default',
      uiBase: 'http://ui.example/',
      jobAllow: ['http://127.0.0.1:*/**'],
      targets: [
        { kind: 'webhook', url: `${base}/worker`, events: ['succeeded'], secret: SECRET },
        { kind: 'webhook', url: `${base}/other`, events: ['failed'], secret: SECRET },
        {
          kind: 'command',
          argv: ['sh', '-c', `cat > ${out}; echo "$DROVER_EVENT" >> ${out}.env; env >> ${out}.env`],
          events: ['succeeded'],
          timeoutMs: 5_000,
        },
      ],
    };
    await deliverEvent({ notify: deps, runtime: createHostRuntime() }, delivery({}, [`${base}/job`]), run());
    assert.deepEqual(got.map((g) => g.path).sort(), ['/job', '/worker']);
    const worker = got.find((g) => g.path === '/worker')!;
    assert.equal(worker.headers['x-drover-event'], 'succeeded');
    assert.equal(worker.headers['x-drover-delivery'], 'job-1.notify-succeeded-1');
    assert.ok(verify(SECRET, worker.body, worker.headers['x-drover-signature'] as string));
    const payload = NotifyPayload.parse(JSON.parse(worker.body));
    assert.equal(payload.uiUrl, 'http://ui.example/namespaces/default/workflows/job-1');
    assert.equal(got.find((g) => g.path === '/job')!.headers['x-drover-signature'], undefined);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), payload);
    const env = readFileSync(`${out}.env`, 'utf8');
    assert.match(env, /^succeeded$/m);
    assert.doesNotMatch(env, new RegExp(SECRET));
  });

  it('signs job hooks with the job secret; a 4xx is refused for good, a 503 and a closed port are retried', async () => {
    got.length = 0;
    const ctx = {
      notify: { namespace: 'default', targets: [], jobSecret: 'job-secret-123', jobAllow: ['http://127.0.0.1:*/**'] },
      runtime: createHostRuntime(),
    };
    await deliverEvent(ctx, delivery({}, [`${base}/job`]), run());
    assert.ok(verify('job-secret-123', got[0]!.body, got[0]!.headers['x-drover-signature'] as string));

    status = 404;
    const refused = await deliverEvent(ctx, delivery({}, [`${base}/gone`]), run()).catch(toFailure);
    assert.ok(refused instanceof ApplicationFailure);
    assert.equal(refused.type, 'NotificationRejected');
    assert.equal(refused.nonRetryable, true);
    status = 503;
    const unavailable = await deliverEvent(ctx, delivery({}, [`${base}/busy?token=abc`]), run()).catch(toFailure);
    assert.equal((unavailable as ApplicationFailure).type, 'NotificationFailed');
    assert.equal((unavailable as ApplicationFailure).nonRetryable, false);
    assert.doesNotMatch((unavailable as Error).message, /token/, 'only the origin is named');
    status = 200;
    const down = await deliverEvent(ctx, delivery({}, ['http://127.0.0.1:1/x']), run()).catch(toFailure);
    assert.equal((down as ApplicationFailure).type, 'NotificationFailed');
  });

  it('refuses, without sending, a job webhook outside notify.jobWebhookAllow', async () => {
    got.length = 0;
    const ctx = { notify: { namespace: 'default', targets: [], jobAllow: [`${base}/allowed/**`] }, runtime: createHostRuntime() };
    await deliverEvent(ctx, delivery({}, [`${base}/allowed/x`]), run());
    const refused = await deliverEvent(ctx, delivery({}, [`${base}/internal`]), run()).catch(toFailure);
    assert.equal((refused as ApplicationFailure).type, 'NotificationRejected');
    assert.deepEqual(
      got.map((g) => g.path),
      ['/allowed/x'],
    );
  });

  it('sends no job webhook on a worker that allows none', async () => {
    got.length = 0;
    const ctx = { notify: { namespace: 'default', targets: [] }, runtime: createHostRuntime() };
    const refused = await deliverEvent(ctx, delivery({}, [`${base}/job`]), run()).catch(toFailure);
    assert.match(String(refused?.message), /sends no job webhooks/);
    assert.equal(got.length, 0);
  });

  it('skips targets an earlier attempt delivered', async () => {
    got.length = 0;
    const ctx = { notify: { namespace: 'default', targets: [], jobAllow: ['http://127.0.0.1:*/**'] }, runtime: createHostRuntime() };
    const done = new Set<string>();
    await deliverEvent(ctx, delivery({}, [`${base}/a`]), run(done));
    await deliverEvent(ctx, delivery({}, [`${base}/a`, `${base}/b`]), run(done));
    assert.deepEqual(
      got.map((g) => g.path),
      ['/a', '/b'],
    );
  });

  it('kills a command at its timeout', async () => {
    const ctx = {
      notify: {
        namespace: 'default',
        targets: [{ kind: 'command' as const, argv: ['sleep', '30'], events: ['succeeded' as const], timeoutMs: 300 }],
      },
      runtime: createHostRuntime(),
    };
    const started = Date.now();
    await assert.rejects(deliverEvent(ctx, delivery(), run()), /timed out/);
    assert.ok(Date.now() - started < 5_000);
  });
});

describe('notify secrets on the worker', () => {
  it('keeps secretEnv variables from agents and hands them to the redactor', async () => {
    const { baseEnvFrom, withheldSecrets } = await import('../../src/worker/host.js');
    const config = {
      ...DroverConfig.parse({
        notify: {
          webhooks: [{ url: 'http://127.0.0.1:1/', events: ['failed'], secretEnv: 'HOOK_SECRET' }],
          jobSecretEnv: 'JOB_HOOK_SECRET',
        },
      }),
      dataDir: '/x',
    };
    const env = { HOOK_SECRET: SECRET, JOB_HOOK_SECRET: 'job-secret-123', ANTHROPIC_API_KEY: 'sk-1' };
    assert.deepEqual(Object.keys(baseEnvFrom(env, config)), ['ANTHROPIC_API_KEY']);
    assert.deepEqual(withheldSecrets(env, config), { HOOK_SECRET: SECRET, JOB_HOOK_SECRET: 'job-secret-123' });
  });
});
