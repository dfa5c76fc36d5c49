/** The bench's command line: flags, their environment variables and defaults, and the job modes. */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { JobResult } from '../../src/shared/schemas.js';
import { BENCH_DIR } from './shared.js';

const HELP = `usage: node --import tsx bench/job-overhead.ts [options]   (or: npm run bench -- [options])

Sample counts (every scenario also runs one discarded warmup sample first; at concurrency C, samples
are taken in fan-out rounds of C started together):
  --samples N              small repo, jobs at concurrency 1           (env BENCH_SAMPLES, default 10)
  --samples-c8 N           small repo, jobs at concurrency C           (env BENCH_SAMPLES_C8, default 16)
  --git-samples N          small repo, prepare-vs-clone scenarios      (env BENCH_GIT_SAMPLES, default 5)
  --large-samples N        large repo, jobs at concurrency 1           (env BENCH_LARGE_SAMPLES, default 5)
  --large-samples-c8 N     large repo, jobs at concurrency C           (env BENCH_LARGE_SAMPLES_C8, default 8)
  --large-git-samples N    large repo, prepare-vs-clone scenarios      (env BENCH_LARGE_GIT_SAMPLES, default 3)
What to run:
  --quick                  the reduced run: small repo 8/16 samples, large repo 3 of each arm, the CLI,
                           worker memory and history size (under 3 minutes on 2 cores)
  --rss-jobs N             jobs in flight while the worker's memory is sampled (default 32; 0: skip)
  --cli-samples N          runs of \`drover --help\` and \`drover status\` (default 5; 0: skip)
  --concurrency C          the "high" concurrency level                (env BENCH_CONCURRENCY, default 8)
  --files N                files in the generated large repo           (env BENCH_FILES, default 20000)
  --repos LIST             comma list of small,large                   (env BENCH_REPOS, default small,large)
  --modes LIST             small repo job modes: noop,commit           (env BENCH_MODES, default noop,commit)
  --large-modes LIST       large repo job modes: noop,commit           (env BENCH_LARGE_MODES, default noop)
Limits and output:
  --job-timeout S          per-job timeout in seconds                  (env BENCH_JOB_TIMEOUT, default 300)
  --deadline M             abort the whole run after M minutes         (env BENCH_DEADLINE, default 30)
  --out FILE               JSON report                                 (default bench/results/latest.json)
  --tmpdir DIR             where repos, mirrors, worktrees and the server db go
                           (env BENCH_TMPDIR, default the OS temp dir; e.g. /dev/shm to take the disk out)
  --keep                   keep the temp dir (repos, mirrors, server db and log)
  --json                   print, as the last line, one JSON object with the headline figures
  -h, --help               this help

Modes: noop runs the agent command \`true\` (job status no_changes: no commit, no push);
       commit runs \`echo x >> README.md\` (status succeeded: commit, push to the origin, diff stats).
`;

const REPO_KINDS = ['small', 'large'] as const;
const MODES = ['noop', 'commit'] as const;
export type RepoKind = (typeof REPO_KINDS)[number];
export type Mode = (typeof MODES)[number];

/** What the "agent" does. noop: nothing changes (status no_changes). commit: one line appended (commit + push). */
export const AGENT_COMMAND: Record<Mode, string> = {
  noop: 'true',
  commit: 'echo x >> README.md',
};
export const EXPECTED_STATUS: Record<Mode, JobResult['status']> = { noop: 'no_changes', commit: 'succeeded' };
export const PROMPT = 'benchmark job: do nothing interesting';

function readFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      samples: { type: 'string' },
      'samples-c8': { type: 'string' },
      concurrency: { type: 'string' },
      'git-samples': { type: 'string' },
      'large-samples': { type: 'string' },
      'large-samples-c8': { type: 'string' },
      'large-git-samples': { type: 'string' },
      'large-modes': { type: 'string' },
      files: { type: 'string' },
      repos: { type: 'string' },
      modes: { type: 'string' },
      'job-timeout': { type: 'string' },
      deadline: { type: 'string' },
      out: { type: 'string' },
      tmpdir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'rss-jobs': { type: 'string' },
      'cli-samples': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  }).values;
}

function intOpt(flag: string | undefined, env: string, def: number, min = 1): number {
  const raw = flag ?? process.env[env];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: ${env} (or its flag) must be an integer >= ${min}, got ${JSON.stringify(raw)}\n`);
    process.exit(64);
  }
  return n;
}

function listOpt<T extends string>(flag: string | undefined, env: string, allowed: readonly T[], def: readonly T[] = allowed): T[] {
  const raw = flag ?? process.env[env];
  if (!raw) return [...def];
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (bad.length > 0 || items.length === 0) {
    process.stderr.write(`bench: ${env} (or its flag) takes a comma list of ${allowed.join(',')}, got ${JSON.stringify(raw)}\n`);
    process.exit(64);
  }
  return items as T[];
}

/** The options of this run; `--help` prints the usage and exits, a bad value exits with 64. */
export function parseOptions(argv: string[]) {
  const flags = readFlags(argv);
  if (flags.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = flags.quick ?? false;
  // The key order is the order of `options` in the JSON report.
  return {
    quick,
    samples: intOpt(flags.samples, 'BENCH_SAMPLES', quick ? 8 : 10),
    samplesHigh: intOpt(flags['samples-c8'], 'BENCH_SAMPLES_C8', 16),
    concurrency: intOpt(flags.concurrency, 'BENCH_CONCURRENCY', 8, 2),
    gitSamples: intOpt(flags['git-samples'], 'BENCH_GIT_SAMPLES', quick ? 3 : 5),
    largeSamples: intOpt(flags['large-samples'], 'BENCH_LARGE_SAMPLES', quick ? 3 : 5),
    largeSamplesHigh: intOpt(flags['large-samples-c8'], 'BENCH_LARGE_SAMPLES_C8', quick ? 0 : 8, 0),
    largeGitSamples: intOpt(flags['large-git-samples'], 'BENCH_LARGE_GIT_SAMPLES', 3),
    rssJobs: intOpt(flags['rss-jobs'], 'BENCH_RSS_JOBS', 32, 0),
    cliSamples: intOpt(flags['cli-samples'], 'BENCH_CLI_SAMPLES', 5, 0),
    json: flags.json ?? false,
    files: intOpt(flags.files, 'BENCH_FILES', 20_000),
    repos: listOpt(flags.repos, 'BENCH_REPOS', REPO_KINDS),
    modes: listOpt(flags.modes, 'BENCH_MODES', MODES),
    largeModes: listOpt(flags['large-modes'], 'BENCH_LARGE_MODES', MODES, ['noop']),
    jobTimeoutMs: intOpt(flags['job-timeout'], 'BENCH_JOB_TIMEOUT', 300) * 1000,
    deadlineMs: intOpt(flags.deadline, 'BENCH_DEADLINE', 30) * 60_000,
    out: resolve(flags.out ?? join(BENCH_DIR, 'results', 'latest.json')),
    tmpdir: resolve(flags.tmpdir ?? process.env.BENCH_TMPDIR ?? tmpdir()),
    keep: flags.keep ?? false,
  };
}

export type BenchOptions = ReturnType<typeof parseOptions>;
