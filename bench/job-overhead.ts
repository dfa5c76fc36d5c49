/**
 * Job-overhead benchmark: how long a Drover job takes from `client.submit` to `client.result` when the agent
 * does (almost) nothing, against the same git commands run directly with no Temporal in between.
 *
 *   npm run bench                                   # all defaults (see --help)
 *   npm run bench -- --quick --json                 # the reduced run; its last line is one JSON object
 *   npm run bench -- --repos small --samples 5      # a quick look
 *   node --import tsx bench/job-overhead.ts --help
 *
 * Everything is real: a Temporal dev server (temp db, free port), one Drover worker (`drover worker`, its own
 * process, run from dist/ as users run it), a DroverClient, and two generated git repositories (a few files, and --files files in nested dirs). Arms that are compared with each
 * other run interleaved (A B, B A, ...) so drift hits them alike. See bench/README.md.
 *
 * This file is the runner; the scenarios are bench/job-overhead/scenarios/*.ts, listed in scenarios/index.ts.
 */
import { cpus, loadavg } from 'node:os';
import type { BenchRun } from './job-overhead/context.js';
import { ensureBuilt, Resources, startEnvironment } from './job-overhead/environment.js';
import { type BenchOptions, parseOptions } from './job-overhead/options.js';
import { buildReport, writeReport } from './job-overhead/report.js';
import { makeRepo, repoFixture } from './job-overhead/repos.js';
import { SCENARIOS } from './job-overhead/scenarios/index.js';
import { filesystemOf, log } from './job-overhead/shared.js';
import { printTables } from './job-overhead/table.js';

const opts = parseOptions(process.argv.slice(2));
const resources = new Resources(opts.keep);

function logMachineState(): number[] {
  const loadStart = loadavg();
  const cores = cpus().length;
  log(`load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} on ${cores} cores`);
  if ((loadStart[0] ?? 0) > cores * 0.5)
    log(`WARNING: the machine is busy (1-min load ${loadStart[0]?.toFixed(2)}); figures will be noisy`);
  log(`options: ${JSON.stringify({ ...opts, out: undefined })}`);
  log(`temp dir ${opts.tmpdir}: ${filesystemOf(opts.tmpdir)}`);
  return loadStart;
}

async function setUp(options: BenchOptions): Promise<BenchRun> {
  ensureBuilt();
  const environment = await startEnvironment(options, resources);
  const repos = options.repos.map((kind) => {
    const info = makeRepo(environment.root, kind, options.files);
    log(`generated ${kind} repo: ${info.files} files in ${Math.round(info.generateMs)} ms (${info.path})`);
    return info;
  });
  return { ...environment, opts: options, repos, results: [], extras: {} };
}

async function runScenarios(bench: BenchRun): Promise<void> {
  for (const repo of bench.repos) {
    const fixture = await repoFixture(bench.root, repo);
    for (const scenario of SCENARIOS) if (scenario.scope === 'repo') await scenario.run(bench, fixture);
  }
  for (const scenario of SCENARIOS) if (scenario.scope === 'run') await scenario.run(bench);
}

async function main(): Promise<void> {
  const loadStart = logMachineState();
  const bench = await setUp(opts);
  await runScenarios(bench);
  const loadEnd = loadavg();
  printTables(bench.results, bench.repos);
  const report = buildReport(bench, loadStart, loadEnd);
  writeReport(opts.out, report);
  if (opts.json) process.stdout.write(`${JSON.stringify(report.headline)}\n`);
}

const deadline = setTimeout(() => {
  log(`deadline of ${opts.deadlineMs / 60_000} min reached; aborting`);
  void resources.stop().finally(() => process.exit(2));
}, opts.deadlineMs);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void resources.stop().finally(() => process.exit(130));
  });
}

main()
  .then(
    () => 0,
    (err) => {
      log(`failed: ${(err as Error).stack ?? err}`);
      return 1;
    },
  )
  .then(async (code) => {
    clearTimeout(deadline);
    await resources.stop();
    // The SDK's native runtime keeps handles open; the bench has nothing left to do.
    process.exit(code);
  });
