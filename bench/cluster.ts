/**
 * What running on a real cluster costs: Temporal 1.29.1 on PostgreSQL (four service processes) with three
 * `drover worker` processes and an origin over HTTP, as test/support/fleet.ts builds it for the tests.
 *
 *   npm run bench:cluster                      # 10 samples of each
 *   npm run bench:cluster -- --samples 20 --out bench/results/cluster-<date>.json
 *
 * Measured: a job that changes nothing and one that commits and pushes (submit to result, in process), and
 * the CLI as a user runs it on a machine without a worker: `drover workers --json`, `drover logs <job>` read
 * through the holding worker, the same read from that worker's own data dir, and `drover status`.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { type Fleet, startFleet } from '../test/support/fleet.js';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '10' }, out: { type: 'string' } } });
const SAMPLES = Number(values.samples);

interface Stat {
  name: string;
  samples: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
}

async function time(name: string, fn: () => Promise<unknown>): Promise<Stat> {
  const ms: number[] = [];
  await fn(); // warm-up, not counted
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!);
  return { name, samples: SAMPLES, medianMs: at(0.5), p95Ms: at(0.95), minMs: Math.round(ms[0]!) };
}

const ok = async (fleet: Fleet, args: string[], worker?: Fleet['workers'][number]) => {
  const r = await fleet.drover(args, worker);
  if (r.code !== 0) throw new Error(`drover ${args.join(' ')}: ${r.stderr}`);
  return r;
};

async function main(): Promise<void> {
  const load = loadavg();
  const started = performance.now();
  const fleet = await startFleet(3);
  const upMs = Math.round(performance.now() - started);
  try {
    await ok(fleet, ['setup']);
    const repo = fleet.newRepo();
    const job = (argv: string[]) => async () => {
      const { jobId } = await fleet.client.submit({ repo: repo.url, prompt: 'bench', agent: { kind: 'command', argv } });
      return fleet.client.result(jobId);
    };
    const { jobId } = await fleet.client.submit({
      repo: repo.url,
      prompt: 'log',
      agent: { kind: 'command', argv: ['bash', '-c', 'seq 1 200'] },
    });
    await fleet.client.result(jobId);
    const held = (await fleet.client.handle(jobId).query<{ worker: string }>('status')).worker;
    const holder = fleet.workers.find((w) => w.id === held)!;
    const stats = [
      await time('no-op job (no changes)', job(['true'])),
      await time('job that commits and pushes over HTTP', job(['bash', '-c', 'date +%s%N > stamp.txt'])),
      await time('drover workers --json', () => ok(fleet, ['workers', '--json'])),
      await time('drover logs (read through the holding worker)', () => ok(fleet, ['logs', jobId])),
      await time("drover logs (on the holding worker's data dir)", () => ok(fleet, ['logs', jobId], holder)),
      await time('drover status', () => ok(fleet, ['status', jobId])),
    ];
    const report = { date: new Date().toISOString(), cores: cpus().length, loadStart: load, loadEnd: loadavg(), fleetUpMs: upMs, stats };
    for (const s of stats) process.stderr.write(`${s.name.padEnd(52)} median ${s.medianMs} ms, p95 ${s.p95Ms} ms, min ${s.minMs} ms\n`);
    process.stderr.write(`cluster + 3 workers up in ${upMs} ms; load ${load.map((l) => l.toFixed(2)).join(' ')}\n`);
    if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await fleet.stop();
  }
}

await main();
process.exit(0);
