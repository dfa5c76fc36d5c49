/**
 * How much a dependency cache saves: the setup of a job on a Node project (npm install of mocha, chai, sinon
 * and eslint) and a Python project (a venv with pytest, requests and rich, then pip install -e .), without a
 * cache and with one. Real dev server, real worker, real npm and pip against their public registries.
 *
 *   node --import tsx bench/setup-cache.ts [--rounds 3] [--out bench/results/setup-cache-<date>.json]
 *
 * "cold" jobs run with an empty Drover cache and an empty npm/pip download cache, as on a new machine;
 * "warm" jobs run right after a cold one, with its Drover cache (and still no npm/pip download cache).
 * The time is the runSetup activity's, from the job's history: restore, the steps, and saving the cache.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DroverClient } from '../src/client.js';
import { DroverConfig } from '../src/config/schema.js';
import type { JobSpecInput } from '../src/shared/schemas.js';
import { ensureTemporalCli } from '../src/temporal/cli-binary.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { startWorker } from '../src/worker.js';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, out: { type: 'string' } },
});
const rounds = Number(args.rounds);
const root = mkdtempSync(join(tmpdir(), 'drover-bench-setup-'));
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };

function repo(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const a of [
    ['init', '-q', '-b', 'main'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'init'],
  ])
    execFileSync('git', a, { cwd: dir, env: GIT_ENV });
  return dir;
}

const projects: { name: string; job: (repo: string) => JobSpecInput; repo: () => string }[] = [
  {
    name: 'node (mocha, chai, sinon, eslint)',
    repo: () =>
      repo('node', {
        'package.json': JSON.stringify({
          name: 'b',
          version: '1.0.0',
          scripts: { test: 'mocha' },
          devDependencies: { mocha: '^10.0.0', chai: '^4.3.0', sinon: '^17.0.0', eslint: '^8.57.0' },
        }),
        '.gitignore': 'node_modules/\n',
        'test/a.test.js': "it('runs', () => {});\n",
      }),
    job: (r) => ({
      repo: r,
      prompt: 'noop',
      agent: { kind: 'command', command: 'true' },
      setup: ['npm install --no-audit --no-fund'],
      cache: [{ key: ['package.json'], paths: ['node_modules'] }],
    }),
  },
  {
    name: 'python (venv, pytest, requests, rich, pip install -e .)',
    repo: () =>
      repo('python', {
        'requirements-dev.txt': 'pytest\nrequests\nrich\nsetuptools>=61\nwheel\n',
        'pyproject.toml':
          '[project]\nname = "b"\nversion = "0.1.0"\n[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[tool.setuptools]\npackages = ["b"]\n',
        'b/__init__.py': '',
        '.gitignore': '.venv/\n*.egg-info/\n',
      }),
    job: (r) => ({
      repo: r,
      prompt: 'noop',
      agent: { kind: 'command', command: 'true' },
      setup: [
        'test -x .venv/bin/python || python3 -m venv .venv',
        '.venv/bin/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt',
        '.venv/bin/python -m pip install --disable-pip-version-check -q --no-build-isolation --no-deps -e .',
      ],
      cache: [{ key: ['requirements-dev.txt'], paths: ['.venv'] }],
    }),
  },
];

async function setupMs(client: DroverClient, jobId: string): Promise<number> {
  const events = (await client.handle(jobId).fetchHistory()).events ?? [];
  const id = Number(events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runSetup')?.eventId);
  const at = (e: (typeof events)[number] | undefined) =>
    Number(e?.eventTime?.seconds ?? 0) * 1000 + Math.round((e?.eventTime?.nanos ?? 0) / 1e6);
  const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === id);
  const done = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id);
  return at(done) - at(started);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const bin = await ensureTemporalCli();
const server = await startDevServer({ bin, dbFile: join(root, 'dev.db'), logFile: join(root, 'server.log') });
const results: Record<string, { cold: number[]; warm: number[] }> = {};
try {
  for (const p of projects) {
    const r = p.repo();
    results[p.name] = { cold: [], warm: [] };
    for (let i = 0; i < rounds; i++) {
      // A fresh data dir (no Drover cache) and fresh npm/pip download caches for every cold job.
      const config = DroverConfig.parse({
        temporal: { address: server.address },
        taskQueue: `bench-${randomBytes(4).toString('hex')}`,
        dataDir: join(root, `data-${i}-${randomBytes(3).toString('hex')}`),
        worker: { backends: ['command'], docker: false },
      }) as DroverConfig;
      const env = { ...process.env, npm_config_cache: join(root, `npm-${i}-${p.name.length}`), PIP_NO_CACHE_DIR: '1' } as Record<
        string,
        string
      >;
      const worker = await startWorker(config, env);
      const client = await DroverClient.connect(config);
      try {
        for (const kind of ['cold', 'warm'] as const) {
          const { jobId } = await client.submit(p.job(r));
          const res = await client.result(jobId);
          if (res.status === 'failed') throw new Error(`${p.name} ${kind}: ${res.failure?.message}`);
          const ms = await setupMs(client, jobId);
          results[p.name]![kind].push(ms);
          process.stderr.write(`${p.name} round ${i + 1} ${kind}: ${ms} ms\n`);
        }
      } finally {
        await worker.shutdown();
        await client.close();
      }
    }
  }
} finally {
  await server.stop();
}

const summary = Object.entries(results).map(([name, r]) => ({
  project: name,
  coldMs: r.cold,
  warmMs: r.warm,
  medianColdMs: median(r.cold),
  medianWarmMs: median(r.warm),
  ratio: Number((median(r.warm) / median(r.cold)).toFixed(3)),
}));
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, load: loadavg().map((l) => Number(l.toFixed(2))) },
  rounds,
  summary,
};
console.log(JSON.stringify(report, null, 2));
if (args.out) writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
rmSync(root, { recursive: true, force: true });
