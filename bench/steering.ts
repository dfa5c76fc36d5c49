/**
 * How fast a person's word reaches a running job, and a job's word reaches a person: a real dev server and
 * worker, the real Claude Code CLI against the scripted model server, a local webhook receiver.
 *
 *   npm run bench:steering                          # 5 samples of each
 *   npm run bench:steering -- --samples 10 --out bench/results/steering-<date>.json
 *
 * Measured:
 *   - live: from `client.message` being called to the worker writing it into Claude's running session
 *     (job log), and to the CLI confirming it took it (its replay of the message);
 *   - prompt: from the message to the next run of a command agent starting with it in its prompt;
 *   - notify: from a job's result being available to its `succeeded` webhook arriving.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { dataPaths } from '../src/config/paths.js';
import { agentWorkerEnv } from '../test/support/agent-env.js';
import { makeRepo, startTestEnv, startTestServer, waitFor, type TestEnv } from '../test/support/harness.js';
import { startModelServer, type ModelServer } from '../test/support/model-server.js';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '5' }, out: { type: 'string' } } });
const SAMPLES = Number(values.samples);

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0);
  return { medianMs: at(0.5), p95Ms: at(0.95), maxMs: Math.round(s[s.length - 1] ?? 0) };
};

/** When the job log first had a drover line matching `pattern` (its own timestamp). */
function loggedAt(env: TestEnv, jobId: string, pattern: RegExp): number | undefined {
  let text = '';
  try {
    text = readFileSync(dataPaths(env.config.dataDir).jobLog(jobId), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.trim().split('\n')) {
    const e = JSON.parse(line) as { ts: string; source: string; text: string };
    if (e.source === 'drover' && pattern.test(e.text)) return Date.parse(e.ts);
  }
  return undefined;
}

async function live(env: TestEnv, model: ModelServer) {
  const written: number[] = [];
  const taken: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const seen = model.requests.filter((r) => r.main).length;
    model.script([{ run: 'sleep 3' }, { say: 'Done.' }]);
    const { jobId } = await env.client.submit({ repo: makeRepo(), prompt: 'Wait', agent: { kind: 'claude-code' } });
    await waitFor('the first call', () => (model.requests.filter((r) => r.main).length > seen ? true : undefined));
    const sent = Date.now();
    await env.client.message(jobId, `steer ${i}`);
    await env.client.result(jobId);
    written.push((loggedAt(env, jobId, /written into the running session/) ?? Number.NaN) - sent);
    taken.push((loggedAt(env, jobId, /steering message delivered: /) ?? Number.NaN) - sent);
  }
  return { writtenIntoSession: stats(written), confirmedByCli: stats(taken) };
}

async function prompt(env: TestEnv) {
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const { jobId } = await env.client.submit({
      repo: makeRepo(),
      prompt: 'Notes',
      agent: { kind: 'command', command: 'grep -q "Messages from" "$DROVER_PROMPT_FILE" || sleep 2; echo n >> notes.txt' },
    });
    await waitFor('the first run', () => loggedAt(env, jobId, /^agent command starting/));
    const sent = Date.now();
    await env.client.message(jobId, `note ${i}`);
    await env.client.result(jobId);
    ms.push((loggedAt(env, jobId, /steering message delivered in the prompt/) ?? Number.NaN) - sent);
  }
  return { nextRunStarted: stats(ms) };
}

async function notify(env: TestEnv) {
  let arrived = 0;
  const hooks = createServer((req, res) =>
    req.resume().on('end', () => {
      arrived = Date.now();
      res.end('ok');
    }),
  );
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    arrived = 0;
    const { jobId } = await env.client.submit({
      repo: makeRepo(),
      prompt: 'Edit',
      agent: { kind: 'command', command: 'echo x > x.txt' },
      notify: { webhooks: [{ url, events: ['succeeded'] }] },
    });
    await env.client.result(jobId);
    const done = Date.now();
    await waitFor('the webhook', () => (arrived ? true : undefined));
    ms.push(arrived - done);
  }
  hooks.close();
  return { afterResult: stats(ms) };
}

const server = await startTestServer();
const model = await startModelServer();
const env = await startTestEnv(
  server.address,
  {
    worker: { backends: ['claude-code', 'command'] },
    notify: { jobWebhookAllow: ['http://127.0.0.1:*/**'] },
    agents: { 'claude-code': { model: 'claude-sonnet-4-5', afterResultGrace: '2s' } },
  },
  agentWorkerEnv(model, 'sk-ant-bench'),
);
try {
  const report = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, load: loadavg().map((l) => Number(l.toFixed(2))) },
    samples: SAMPLES,
    live: await live(env, model),
    prompt: await prompt(env),
    notify: await notify(env),
  };
  console.log(JSON.stringify(report, null, 2));
  if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await env.stop();
  await model.close();
  await server.stop();
}
