/**
 * Runtime start benchmark: how soon an agent starts, and how long a whole job takes, on the host, in a docker
 * container made for the job (cold), and in a container from the warm pool, side by side in one run.
 *
 *   npm run bench:runtime                       # defaults: 10 samples per arm
 *   node --import tsx bench/runtime-start.ts --samples 20 --out bench/results/runtime-start.json
 *
 * Everything is real: a Temporal dev server, three Drover workers (host; docker with pool size 0; docker with
 * a warm pool), the agent image, a small git repository. "first output" is from client.submit to the first line
 * the agent printed, as the job log stamps it; "job" is from submit to the result. Arms run interleaved
 * (host, cold, warm, host, ...) so drift hits them alike; the warm arm waits for its pool to be full before
 * each job, as a worker between jobs would be.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dataPaths } from '../src/config/paths.js';
import { connectEngine } from '../src/runtimes/docker/engine.js';
import { buildAgentImage } from '../src/runtimes/docker/image.js';
import type { JobSpecInput } from '../src/shared/schemas.js';
import { makeRepo, startTestEnv, startTestServer, type TestEnv } from '../test/support/harness.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: process.env.BENCH_SAMPLES ?? '10' },
    out: { type: 'string', default: 'bench/results/runtime-start-latest.json' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node --import tsx bench/runtime-start.ts [--samples N] [--out FILE]');
  process.exit(0);
}
const samples = Number(values.samples);

type Arm = 'host' | 'docker-cold' | 'docker-warm';
const ARMS: Arm[] = ['host', 'docker-cold', 'docker-warm'];

const image = (await buildAgentImage(connectEngine(), { progress: (l) => console.error(`image: ${l}`) })).tag;
const server = await startTestServer();
const envs: Record<Arm, TestEnv> = {
  host: await startTestEnv(server.address),
  'docker-cold': await startTestEnv(server.address, { worker: { docker: true }, docker: { poolSize: 0 } }),
  'docker-warm': await startTestEnv(server.address, { worker: { docker: true }, docker: { poolSize: 2 } }),
};
const repo = makeRepo();
type Timings = { firstOutputMs: number[]; prepareToOutputMs: number[]; jobMs: number[] };
const fresh = (): Timings => ({ firstOutputMs: [], prepareToOutputMs: [], jobMs: [] });
const timings: Record<Arm, Timings> = { host: fresh(), 'docker-cold': fresh(), 'docker-warm': fresh() };

async function sample(arm: Arm): Promise<void> {
  const env = envs[arm];
  if (arm === 'docker-warm') await env.worker.docker.pool!.warm();
  const spec: JobSpecInput = {
    repo,
    prompt: 'bench',
    agent: { kind: 'command', command: 'echo started; echo edited >> hello.txt' },
    ...(arm === 'host' ? {} : { runtime: { kind: 'docker' as const } }),
  };
  const submitted = Date.now();
  const { jobId } = await env.client.submit(spec);
  const result = await env.client.result(jobId);
  const done = Date.now();
  if (result.status !== 'succeeded') throw new Error(`${arm}: job ${jobId} ended ${result.status}: ${JSON.stringify(result.failure)}`);
  const log = readFileSync(dataPaths(env.config.dataDir).jobLog(jobId), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { ts: string; source: string });
  const first = log.find((e) => e.source === 'agent');
  if (!first) throw new Error(`${arm}: no agent output in the log of ${jobId}`);
  timings[arm].firstOutputMs.push(Date.parse(first.ts) - submitted);
  // From the job's first activity starting on the worker: what the runtime adds, without task dispatch.
  timings[arm].prepareToOutputMs.push(Date.parse(first.ts) - Date.parse(log[0]!.ts));
  timings[arm].jobMs.push(done - submitted);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

try {
  for (const arm of ARMS) await sample(arm); // warmup, discarded
  for (const arm of ARMS) timings[arm] = fresh();
  for (let i = 0; i < samples; i++) {
    const order = i % 2 === 0 ? ARMS : [...ARMS].reverse();
    for (const arm of order) await sample(arm);
  }
  const rows = ARMS.map((arm) => ({
    arm,
    firstOutputP50: pct(timings[arm].firstOutputMs, 50),
    firstOutputP95: pct(timings[arm].firstOutputMs, 95),
    prepareToOutputP50: pct(timings[arm].prepareToOutputMs, 50),
    prepareToOutputP95: pct(timings[arm].prepareToOutputMs, 95),
    jobP50: pct(timings[arm].jobMs, 50),
    jobP95: pct(timings[arm].jobMs, 95),
  }));
  console.log(`runtime start, ${samples} samples per arm, ${cpus().length} cores, image ${image}`);
  console.log('arm           submit->first output   prepare->first output   whole job      (ms, p50 / p95)');
  for (const r of rows) {
    console.log(
      `${r.arm.padEnd(13)} ${`${r.firstOutputP50} / ${r.firstOutputP95}`.padEnd(22)} ${`${r.prepareToOutputP50} / ${r.prepareToOutputP95}`.padEnd(23)} ${r.jobP50} / ${r.jobP95}`,
    );
  }
  const diff = (k: 'firstOutputP50' | 'prepareToOutputP50') => rows[2]![k] - rows[0]![k];
  const signed = (n: number) => `${n >= 0 ? '+' : ''}${n} ms`;
  console.log(
    `warm pool vs host at p50: submit->first output ${signed(diff('firstOutputP50'))}, prepare->first output ${signed(diff('prepareToOutputP50'))} (target: within 100 ms)`,
  );
  const out = resolve(values.out!);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ when: new Date().toISOString(), samples, cores: cpus().length, image, rows, timings }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
} finally {
  for (const env of Object.values(envs)) await env.stop();
  await server.stop();
}
