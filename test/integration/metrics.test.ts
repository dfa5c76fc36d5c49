import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerConfig } from '../../src/config/schema.js';
import type { Engine } from '../../src/runtimes/docker/engine.js';
import { DockerPool } from '../../src/runtimes/docker/pool.js';
import { installRuntime } from '../../src/worker.js';
import { setWarmContainers } from '../../src/worker/metrics.js';
import {
  agentScript,
  makeRepo,
  startTestEnv,
  startTestServer,
  type TestEnv,
  type TestServer,
  tempDir,
  waitFor,
} from '../support/harness.js';
import { type Sample, scrape, total } from '../support/prometheus.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// First, before any worker or connection: the SDK's Runtime is installed once per process (each test file
// runs in its own), and startWorker's own installRuntime() then changes nothing.
const METRICS = `127.0.0.1:${await freePort()}`;
installRuntime('WARN', METRICS);

const GO = join(tempDir('drover-metrics-'), 'go');
/** Asks on its first run; on the next, waits for the test's go file, then writes the answer it was given. */
const AGENT = `
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then
  printf '{"question": "Which greeting should I write?"}' > .drover/question.json
  exit 0
fi
while [ ! -e ${GO} ]; do sleep 0.1; done
cat "$DROVER_ANSWER_FILE" > greeting.txt`;

const agent = { agent: 'command' };
const moved = (now: Sample[], then: Sample[], name: string, labels: Record<string, string> = agent) =>
  total(now, name, labels) - total(then, name, labels);

describe('Prometheus metrics from the worker', () => {
  let server: TestServer;
  let env: TestEnv;
  before(async () => {
    server = await startTestServer();
    env = await startTestEnv(server.address);
  });
  after(async () => {
    await env?.stop();
    await server?.stop();
  });

  it("serves the SDK's temporal_* metrics and Drover's drover_* ones, which a job moves", async () => {
    const first = await waitFor('the SDK worker metrics', async () => {
      const samples = await scrape(METRICS);
      return samples.some((s) => s.name === 'temporal_worker_task_slots_available') ? samples : undefined;
    });
    assert.ok(
      first.some((s) => s.name.startsWith('temporal_request')),
      'an SDK client metric',
    );
    const base = await scrape(METRICS);

    const { jobId } = await env.client.submit({
      repo: makeRepo(),
      prompt: 'Write a greeting to greeting.txt; ask me which one',
      agent: { kind: 'command', argv: ['bash', agentScript(AGENT)] },
    });
    await waitFor('the question counted', async () =>
      moved(await scrape(METRICS), base, 'drover_questions_asked_total') === 1 ? true : undefined,
    );
    await env.client.answer(jobId, 'hello');

    // The agent's second run waits for the go file: the job is running.
    const during = await waitFor('the answer counted', async () => {
      const samples = await scrape(METRICS);
      return moved(samples, base, 'drover_questions_answered_total') === 1 ? samples : undefined;
    });
    assert.equal(moved(during, base, 'drover_jobs_started_total'), 1);
    assert.equal(moved(during, base, 'drover_jobs_finished_total'), 0);
    assert.equal(moved(during, base, 'drover_questions_unanswered_total'), 0);
    assert.ok(moved(during, base, 'drover_phase_duration_seconds_count', { ...agent, phase: 'preparing' }) >= 1);
    assert.ok(moved(during, base, 'drover_phase_duration_seconds_count', { ...agent, phase: 'waiting_for_human' }) >= 1);
    assert.equal((await env.client.status(jobId)).phase, 'running_agent');

    writeFileSync(GO, '');
    assert.equal((await env.client.result(jobId)).status, 'succeeded');
    const done = { ...agent, status: 'succeeded' };
    const end = await waitFor('the job counted as finished', async () => {
      const samples = await scrape(METRICS);
      return moved(samples, base, 'drover_jobs_finished_total', done) === 1 ? samples : undefined;
    });
    assert.equal(moved(end, base, 'drover_jobs_started_total'), 1);
    assert.equal(moved(end, base, 'drover_job_duration_seconds_count', done), 1);
    assert.ok(moved(end, base, 'drover_job_duration_seconds_sum', done) > 0);
    assert.ok(moved(end, base, 'drover_phase_duration_seconds_count', { ...agent, phase: 'committing' }) >= 1);
  });

  it("shows the docker pool's warm containers per image as a gauge", async () => {
    const pool = new DockerPool(fakeEngine(), {
      workerId: 'w-metrics',
      slotsDir: tempDir(),
      defaultImage: 'drover-agent:metrics',
      config: DockerConfig.parse({ poolSize: 2 }),
      onIdleChange: setWarmContainers,
    });
    const warm = async () => total(await scrape(METRICS), 'drover_warm_containers', { image: 'drover-agent:metrics' });
    await pool.start();
    await pool.warm();
    assert.equal(await warm(), 2);
    await pool.claim('job-1');
    assert.equal(await warm(), 1);
    await pool.shutdown();
    assert.equal(await warm(), 0);
  });
});

/** The pool's bookkeeping only (no Docker here): containers in a map. */
function fakeEngine(): Engine {
  const running = new Set<string>();
  let n = 0;
  const engine: Partial<Engine> = {
    ping: async () => undefined,
    hasImage: async () => true,
    startContainer: async () => {
      const id = `c${++n}`;
      running.add(id);
      return id;
    },
    isRunning: async (id) => running.has(id),
    remove: async (id) => void running.delete(id),
    listByLabel: async () => [],
    run: async () => 0,
  };
  return engine as Engine;
}
