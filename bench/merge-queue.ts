/**
 * What the merge queue costs: a real dev server and worker, a bare origin, and jobs that commit one file each.
 *
 *   npm run bench:merge-queue                     # 10 jobs a batch
 *   npm run bench:merge-queue -- --jobs 20 --out bench/results/merge-queue-<date>.json
 *
 * Measured, per batch of jobs submitted at once with --integrate main:
 *   - land: from a job's commit being queued to it being on main (the queue's own timestamps), median and p95;
 *   - per entry: the queue's own time on one entry (merge, checks, push), which bounds its throughput;
 *   - per entry: the queue's own time on one entry (merge, checks, push), which bounds its throughput;
 *   - the batch: first submit to the last job landed, and jobs landed a minute;
 *   - the same with one validation step (`true`) re-run on each merged commit, which adds a worktree;
 *   - the job alone: submit to result for the same job without --integrate.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { JobSpecInput } from '../src/shared/schemas.js';
import { makeRepo, startTestEnv, startTestServer, tempDir, type TestEnv } from '../test/support/harness.js';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '10' }, out: { type: 'string' } } });
const JOBS = Number(values.jobs);

function bareOrigin(): string {
  const dir = join(tempDir('drover-bench-origin-'), 'origin.git');
  execFileSync('git', ['clone', '-q', '--bare', makeRepo(), dir]);
  return dir;
}

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0);
  return { medianMs: at(0.5), p95Ms: at(0.95), maxMs: Math.round(s[s.length - 1] ?? 0) };
};

async function batch(env: TestEnv, name: string, extra: Partial<JobSpecInput>) {
  const origin = bareOrigin();
  const started = performance.now();
  const jobs = await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      env.client.submit({
        repo: origin,
        prompt: `file ${i}`,
        agent: { kind: 'command', command: `echo ${i} > f${i}.txt` },
        integrate: { into: 'main' },
        ...extra,
      } as JobSpecInput),
    ),
  );
  const results = await Promise.all(jobs.map((j) => env.client.result(j.jobId)));
  const wallMs = performance.now() - started;
  if (results.some((r) => r.integration?.status !== 'integrated')) throw new Error(`${name}: not every job landed`);
  const view = await env.client.queue(origin, 'main');
  const land = view.entries.map((e) => Date.parse(e.finishedAt ?? '') - Date.parse(e.enqueuedAt));
  const service = view.entries.map((e) => Date.parse(e.finishedAt ?? '') - Date.parse(e.startedAt ?? ''));
  return {
    name,
    jobs: JOBS,
    land: stats(land),
    perEntry: stats(service),
    batchMs: Math.round(wallMs),
    landedPerMinute: Math.round((JOBS / wallMs) * 60_000 * 10) / 10,
  };
}

async function jobAlone(env: TestEnv) {
  const origin = bareOrigin();
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const { jobId } = await env.client.submit({ repo: origin, prompt: 'alone', agent: { kind: 'command', command: `echo ${i} > a.txt` } });
    await env.client.result(jobId);
    ms.push(performance.now() - t);
  }
  return { name: 'job without --integrate (submit to result)', ...stats(ms) };
}

const server = await startTestServer();
const env = await startTestEnv(server.address);
try {
  const load = loadavg();
  await batch(env, 'warm-up', {});
  const rows = [
    await jobAlone(env),
    await batch(env, 'merge queue, no checks', {}),
    await batch(env, 'merge queue, one check re-run on the merged commit', { validate: [{ name: 'ok', command: 'true' }] }),
  ];
  const report = { date: new Date().toISOString(), cpus: cpus().length, loadavg: load.map((l) => Math.round(l * 100) / 100), rows };
  console.log(JSON.stringify(report, null, 2));
  if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await env.stop();
  await server.stop();
}
