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
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DroverClient } from '../src/client.js';
import { DroverConfig } from '../src/config/schema.js';
import { gitFor } from '../src/git/git-for-config.js';
import type { JobResult } from '../src/shared/schemas.js';
import { ensureTemporalCli } from '../src/temporal/cli-binary.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';

// ---------------------------------------------------------------------------------------------------------------
// options

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

const { values: flags } = parseArgs({
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
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
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

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const quick = flags.quick ?? false;
const opts = {
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
  repos: listOpt(flags.repos, 'BENCH_REPOS', ['small', 'large'] as const),
  modes: listOpt(flags.modes, 'BENCH_MODES', ['noop', 'commit'] as const),
  largeModes: listOpt(flags['large-modes'], 'BENCH_LARGE_MODES', ['noop', 'commit'] as const, ['noop']),
  jobTimeoutMs: intOpt(flags['job-timeout'], 'BENCH_JOB_TIMEOUT', 300) * 1000,
  deadlineMs: intOpt(flags.deadline, 'BENCH_DEADLINE', 30) * 60_000,
  out: resolve(flags.out ?? join(BENCH_DIR, 'results', 'latest.json')),
  tmpdir: resolve(flags.tmpdir ?? process.env.BENCH_TMPDIR ?? tmpdir()),
  keep: flags.keep ?? false,
};
type RepoKind = (typeof opts.repos)[number];
type Mode = (typeof opts.modes)[number];

/** What the "agent" does. noop: nothing changes (status no_changes). commit: one line appended (commit + push). */
const AGENT_COMMAND: Record<Mode, string> = {
  noop: 'true',
  commit: 'echo x >> README.md',
};
const EXPECTED_STATUS: Record<Mode, JobResult['status']> = { noop: 'no_changes', commit: 'succeeded' };
const PROMPT = 'benchmark job: do nothing interesting';

// ---------------------------------------------------------------------------------------------------------------
// small helpers

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const now = () => performance.now();
const GIT_ENV = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { cwd, env: GIT_ENV, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${stderr.trim() || err.message}`));
      else resolvePromise(stdout.trim());
    });
  });
}
const git = (cwd: string, ...args: string[]) => run('git', args, cwd);
const gitSync = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();

/** Serializes work per key, like Drover's per-mirror lock in the worker. */
function keyLock() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    tails.set(key, run);
    try {
      return await run;
    } finally {
      if (tails.get(key) === run) tails.delete(key);
    }
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Nearest-rank percentile (p95 of 10 samples is the largest one). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The mount that holds `dir` (Linux), e.g. "ext4 /dev/vda on /": file creation cost depends on it. */
function filesystemOf(dir: string): string {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f.length >= 3 && (dir === f[1] || dir.startsWith(f[1] === '/' ? '/' : `${f[1]}/`)));
    const m = mounts.sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0))[0];
    return m ? `${m[2]} ${m[0]} on ${m[1]} (${m[3]})` : 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// repositories

interface RepoInfo {
  kind: RepoKind;
  path: string;
  files: number;
  generateMs: number;
}

function makeSmallRepo(root: string): RepoInfo {
  const started = now();
  const dir = join(root, 'repo-small');
  mkdirSync(join(dir, 'src'), { recursive: true });
  const files: Record<string, string> = {
    'README.md': '# small bench repo\n',
    'hello.txt': 'hello\n',
    'package.json': '{ "name": "small", "version": "1.0.0" }\n',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's content is a JS template literal
    'src/index.js': 'export const greet = (n) => `hello ${n}`;\n',
    'src/util.js': 'export const add = (a, b) => a + b;\n',
  };
  for (const [p, c] of Object.entries(files)) writeFileSync(join(dir, p), c);
  gitSync(dir, 'init', '-q', '-b', 'main');
  gitSync(dir, 'add', '-A');
  gitSync(dir, 'commit', '-q', '-m', 'initial');
  return { kind: 'small', path: dir, files: Object.keys(files).length, generateMs: now() - started };
}

/** `count` files of a few hundred bytes: top/NN/sub/NN/fileNNN.ts, 50 files per leaf dir, 20 leaf dirs per top dir. */
function makeLargeRepo(root: string, count: number): RepoInfo {
  const started = now();
  const dir = join(root, `repo-large-${count}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README.md'), `# generated bench repo with ${count} files\n`);
  const perLeaf = 50;
  const leavesPerTop = 20;
  let made = 0;
  for (let leaf = 0; made < count; leaf++) {
    const top = Math.floor(leaf / leavesPerTop);
    const leafDir = join(dir, 'pkg', `m${String(top).padStart(3, '0')}`, `d${String(leaf % leavesPerTop).padStart(2, '0')}`);
    mkdirSync(leafDir, { recursive: true });
    for (let i = 0; i < perLeaf && made < count; i++, made++) {
      const body =
        `// generated file ${made}\n` +
        `export const id${made} = ${made};\n` +
        `export function f${made}(x: number): number {\n  return x * ${made % 97} + ${made % 13};\n}\n` +
        `// ${randomBytes(24).toString('hex')}\n`;
      writeFileSync(join(leafDir, `file${String(i).padStart(3, '0')}.ts`), body);
    }
  }
  gitSync(dir, 'init', '-q', '-b', 'main');
  gitSync(dir, 'add', '-A');
  gitSync(dir, 'commit', '-q', '-m', `initial: ${count} generated files`);
  return { kind: 'large', path: dir, files: count + 1, generateMs: now() - started };
}

/** Deletes the branches that jobs and baselines pushed, so later scenarios fetch the same number of refs. */
async function resetOrigin(origin: string): Promise<number> {
  const refs = (await git(origin, 'for-each-ref', '--format=%(refname)', 'refs/heads/drover', 'refs/heads/bench'))
    .split('\n')
    .filter(Boolean);
  if (refs.length === 0) return 0;
  const stdin = refs.map((r) => `delete ${r}\n`).join('');
  await new Promise<void>((res, rej) => {
    const child = execFile('git', ['update-ref', '--stdin'], { cwd: origin, env: GIT_ENV }, (err) => (err ? rej(err) : res()));
    child.stdin?.end(stdin);
  });
  return refs.length;
}

// ---------------------------------------------------------------------------------------------------------------
// The raw-git baseline: the git commands Drover's activities run (src/git/git.ts via src/activities/workspace.ts
// and commit.ts), in the same order and with the per-mirror FIFO lock around the fetch (the only step that
// takes it), without Temporal, simple-git, job logs or process scans. If those activities change, change this
// to match.

const baselineLock = keyLock();

async function ensureBaselineMirror(origin: string, mirror: string): Promise<void> {
  if (existsSync(mirror)) return;
  await git('/', 'init', '--quiet', '--bare', mirror);
  await gitFetch(origin, mirror);
}

const gitFetch = (origin: string, mirror: string) =>
  git(
    mirror,
    'fetch',
    '--quiet',
    '--prune',
    '--no-write-fetch-head',
    '--',
    origin,
    '+HEAD:refs/drover/origin-head',
    '+refs/heads/*:refs/remotes/origin/*',
    '+refs/tags/*:refs/tags/*',
  );

/** A job git directory as createJobRepo writes it, and the checkout. */
async function gitCheckout(mirror: string, gitdir: string, worktree: string, branch: string, sha: string): Promise<void> {
  mkdirSync(join(gitdir, 'objects', 'info'), { recursive: true });
  mkdirSync(join(gitdir, 'refs', 'heads', 'bench'), { recursive: true });
  mkdirSync(join(gitdir, 'info'), { recursive: true });
  writeFileSync(join(gitdir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = false\n');
  writeFileSync(join(gitdir, 'HEAD'), `ref: refs/heads/${branch}\n`);
  writeFileSync(join(gitdir, 'refs', 'heads', ...branch.split('/')), `${sha}\n`);
  writeFileSync(join(gitdir, 'objects', 'info', 'alternates'), `${join(mirror, 'objects')}\n`);
  writeFileSync(join(gitdir, 'info', 'exclude'), '/.drover/\n');
  mkdirSync(worktree, { recursive: true });
  await git(worktree, `--git-dir=${gitdir}`, `--work-tree=${worktree}`, 'read-tree', '-u', '--reset', sha);
}

/** fetch (under the lock) + rev-parse + git dir + read-tree, as in syncMirror + resolveBase + createJobRepo. */
async function gitPrepare(origin: string, mirror: string, gitdir: string, worktree: string, branch: string): Promise<string> {
  await baselineLock(mirror, () => gitFetch(origin, mirror));
  const sha = await git(mirror, 'rev-parse', '--verify', '--quiet', '--end-of-options', 'refs/drover/origin-head^{commit}');
  await gitCheckout(mirror, gitdir, worktree, branch, sha);
  return sha;
}

/**
 * One job's worth of git with no Temporal: prepare, run the agent command, commit + push if changed, remove.
 * Returns per-phase wall times under the workflow's phase names, so the two can be compared phase by phase.
 */
async function baselineJob(
  origin: string,
  mirror: string,
  worktreesDir: string,
  mode: Mode,
): Promise<{ durationsMs: Record<string, number> }> {
  const id = `b-${randomBytes(5).toString('hex')}`;
  const branch = `bench/${id}`;
  const worktree = join(worktreesDir, id);
  const gitdir = join(worktreesDir, `${id}.git`);
  const durationsMs: Record<string, number> = {};
  let mark = now();
  const phase = (name: string) => {
    const t = now();
    durationsMs[name] = round1(t - mark);
    mark = t;
  };
  await ensureBaselineMirror(origin, mirror);
  const base = await gitPrepare(origin, mirror, gitdir, worktree, branch);
  phase('preparing');
  await run('bash', ['-c', AGENT_COMMAND[mode]], worktree);
  phase('running_agent');
  // commitJob + originBranch + pushCommit + changedFiles, as in commitChanges
  const g = (...args: string[]) => git(worktree, `--git-dir=${gitdir}`, `--work-tree=${worktree}`, ...args);
  await g('rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
  await g('add', '-A');
  const tree = await g('write-tree');
  if (tree !== (await g('rev-parse', `${base}^{tree}`))) {
    await g('config', 'user.email').catch(() => '');
    const commit = await g(
      'commit-tree',
      tree,
      '-p',
      base,
      '-m',
      PROMPT,
      '-m',
      `Drover-Job: ${id}\nDrover-Agent: command\nDrover-Base: ${base}`,
    );
    await g('update-ref', `refs/heads/${branch}`, commit, base);
    await git(mirror, 'rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`).catch(() => '');
    await g('push', '--quiet', `--force-with-lease=refs/heads/${branch}:`, '--', origin, `${commit}:refs/heads/${branch}`);
    await g('diff', '--numstat', '-z', '--no-renames', base, commit);
  } else if (mode === 'commit') {
    throw new Error('baseline: the commit-mode agent changed nothing');
  }
  phase('committing');
  rmSync(worktree, { recursive: true, force: true });
  rmSync(gitdir, { recursive: true, force: true });
  phase('cleaning_up');
  return { durationsMs };
}

// ---------------------------------------------------------------------------------------------------------------
// measurement

interface Scenario {
  repo: RepoKind;
  scenario: string;
  kind: 'drover' | 'git';
  mode?: Mode;
  concurrency: number;
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
  /** Summed wall time of this arm's rounds (interleaved arms do not overlap). */
  wallMs: number;
  perSecond: number;
  errors: string[];
  samplesMs: number[];
  /** Jobs: median time per phase (Drover: JobResult.durationsMs in workflow time; baseline: wall time). */
  phasesP50Ms?: Record<string, number>;
  /**
   * Event-loop delay of this process while the arm ran (p99: the median over the arm's turns of each turn's
   * p99; max: the longest single delay). The Drover worker runs in this process, so a high value means its
   * activities (and the client) waited for the JavaScript thread.
   */
  eventLoopDelayMs: { p99: number; max: number };
}
const results: Scenario[] = [];

/** One thing to measure. `run` is timed from outside unless `selfTimed`, in which case it returns its own ms. */
interface Arm {
  meta: Pick<Scenario, 'repo' | 'scenario' | 'kind' | 'mode'>;
  run: () => Promise<unknown>;
  selfTimed?: boolean;
}
interface Recording {
  samples: number[];
  errors: string[];
  wallMs: number;
  phases: Record<string, number[]>;
  /** Per turn: the event-loop delay histogram's p99 and max, in ms. */
  loopP99: number[];
  loopMax: number[];
}
const newRecording = (): Recording => ({ samples: [], errors: [], wallMs: 0, phases: {}, loopP99: [], loopMax: [] });
/**
 * Runs `work` and adds its wall time to the arm, with a fresh event-loop histogram (one enabled across turns
 * would count the time between turns as one long delay).
 */
async function timedTurn(rec: Recording, work: () => Promise<unknown>): Promise<void> {
  const t = now();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    await work();
  } finally {
    loop.disable();
    rec.wallMs += now() - t;
    if (loop.count > 0) {
      rec.loopP99.push(loop.percentile(99) / 1e6);
      rec.loopMax.push(loop.max / 1e6);
    }
  }
}
const warmedUp = new Set<Arm>();

async function sampleOnce(arm: Arm, rec: Recording): Promise<void> {
  const t0 = now();
  try {
    const value = await arm.run();
    rec.samples.push(arm.selfTimed ? (value as number) : now() - t0);
    const phases = (value as Partial<JobResult> | undefined)?.durationsMs;
    if (phases) for (const [k, v] of Object.entries(phases)) rec.phases[k] = [...(rec.phases[k] ?? []), v];
  } catch (err) {
    rec.errors.push((err as Error).message.split('\n')[0] ?? String(err));
  }
}

/** One discarded sample per arm, before its first measured one. */
async function warmUp(arms: Arm[]): Promise<void> {
  for (const arm of arms) {
    if (warmedUp.has(arm)) continue;
    warmedUp.add(arm);
    await arm.run().catch((err) => log(`warmup of ${arm.meta.scenario} failed: ${(err as Error).message.split('\n')[0]}`));
  }
}

/**
 * Concurrency 1: `n` rounds, each running every arm once, in alternating order (A B, B A, ...), so drift in
 * the machine and the file system's state hit every arm alike.
 */
async function interleaved(arms: Arm[], n: number): Promise<Scenario[]> {
  await warmUp(arms);
  const recs = arms.map(newRecording);
  for (let i = 0; i < n; i++) {
    const order = arms.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) await timedTurn(recs[k]!, () => sampleOnce(arms[k]!, recs[k]!));
  }
  return arms.map((arm, k) => record(arm, 1, recs[k]!));
}

/**
 * Concurrency C: rounds in which an arm starts C samples at once (a fan-out of C jobs) and waits for all of
 * them; arms take turns, in alternating order. `n` samples per arm in ceil(n / C) rounds.
 */
async function fanOut(arms: Arm[], concurrency: number, n: number): Promise<Scenario[]> {
  await warmUp(arms);
  const recs = arms.map(newRecording);
  const rounds = Math.ceil(n / concurrency);
  for (let r = 0; r < rounds; r++) {
    const size = Math.min(concurrency, n - r * concurrency);
    const order = arms.map((_, k) => k);
    if (r % 2 === 1) order.reverse();
    for (const k of order) {
      await timedTurn(recs[k]!, () => Promise.all(Array.from({ length: size }, () => sampleOnce(arms[k]!, recs[k]!))));
    }
  }
  return arms.map((arm, k) => record(arm, concurrency, recs[k]!));
}

function record(arm: Arm, concurrency: number, rec: Recording): Scenario {
  const sorted = [...rec.samples].sort((a, b) => a - b);
  const s: Scenario = {
    ...arm.meta,
    concurrency,
    n: sorted.length,
    p50: round1(percentile(sorted, 50)),
    p95: round1(percentile(sorted, 95)),
    min: round1(sorted[0] ?? NaN),
    max: round1(sorted.at(-1) ?? NaN),
    mean: round1(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
    wallMs: Math.round(rec.wallMs),
    perSecond: Math.round((sorted.length / (rec.wallMs / 1000)) * 100) / 100,
    errors: rec.errors,
    samplesMs: rec.samples.map(round1),
    eventLoopDelayMs: {
      p99: round1(
        percentile(
          [...rec.loopP99].sort((a, b) => a - b),
          50,
        ),
      ),
      max: round1(Math.max(0, ...rec.loopMax)),
    },
  };
  if (Object.keys(rec.phases).length > 0) {
    s.phasesP50Ms = Object.fromEntries(
      Object.entries(rec.phases).map(([k, v]) => [
        k,
        round1(
          percentile(
            [...v].sort((a, b) => a - b),
            50,
          ),
        ),
      ]),
    );
  }
  results.push(s);
  log(
    `${arm.meta.repo.padEnd(5)} ${arm.meta.scenario.padEnd(36)} c=${concurrency} n=${s.n} p50=${s.p50}ms p95=${s.p95}ms` +
      (rec.errors.length ? `  ERRORS=${rec.errors.length}: ${rec.errors[0]}` : ''),
  );
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// main

let root = '';
let server: DevServer | undefined;
let worker: WorkerProcess | undefined;
let client: DroverClient | undefined;
let cleaningUp: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    await worker?.stop().catch((err) => log(`worker shutdown: ${(err as Error).message}`));
    await client?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    if (root && !opts.keep) rmSync(root, { recursive: true, force: true });
    else if (root) log(`kept ${root}`);
  })();
  return cleaningUp;
}

// ---------------------------------------------------------------------------------------------------------------
// the worker, in its own process, from dist/ as `drover worker` runs it

const REPO_ROOT = join(BENCH_DIR, '..');
const DROVER_BIN = join(REPO_ROOT, 'bin', 'drover.js');

/** dist/ is what the worker and the CLI run: rebuild it when src/ changed since. */
function ensureBuilt(): void {
  const stamp = join(REPO_ROOT, 'dist', '.build-stamp');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  if (existsSync(stamp) && newest(join(REPO_ROOT, 'src')) < statSync(stamp).mtimeMs) return;
  log('building dist/ (npm run build)');
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
}

interface WorkerProcess {
  pid: number;
  /** Resident memory now, in MB (VmRSS). */
  rssMb(): number;
  stop(): Promise<void>;
}

/** The environment every `drover` the bench runs gets: this server and queue, no config file of the user's. */
function droverEnv(config: DroverConfig, configFile: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DROVER_CONFIG: configFile,
    TEMPORAL_ADDRESS: config.temporal.address,
    DROVER_TASK_QUEUE: config.taskQueue,
    DROVER_DATA_DIR: config.dataDir,
    DROVER_BACKENDS: 'command',
    DROVER_DOCKER: '0',
  };
}

async function startWorkerProcess(env: NodeJS.ProcessEnv, workerId: string): Promise<WorkerProcess> {
  // Through the shebang, as ./drover and an installed `drover` start it (with its node flags).
  const child: ChildProcess = spawn(DROVER_BIN, ['worker', '--worker-id', workerId], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = `${stderr}${d}`.slice(-4000)));
  await new Promise<void>((resolvePromise, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('polling') && resolvePromise());
    child.once('exit', (code) =>
      reject(new Error(`the worker exited with ${code} before polling: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
  const pid = child.pid!;
  return {
    pid,
    rssMb: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
    stop: () =>
      new Promise<void>((resolvePromise) => {
        if (child.exitCode !== null) return resolvePromise();
        child.once('exit', () => resolvePromise());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the CLI, worker memory and history size

/** Wall time of `drover <args>` as a user runs it (bin/drover.js, from dist/), p50 of n runs after one warmup. */
async function timeCli(env: NodeJS.ProcessEnv, args: string[], n: number): Promise<{ p50: number; samplesMs: number[] }> {
  const once = () =>
    new Promise<number>((resolvePromise, reject) => {
      const t = now();
      execFile(DROVER_BIN, args, { env }, (err, _out, stderr) => {
        if (err) reject(new Error(`drover ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolvePromise(now() - t);
      });
    });
  await once();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await once());
  return {
    p50: round1(
      percentile(
        [...samples].sort((a, b) => a - b),
        50,
      ),
    ),
    samplesMs: samples.map(round1),
  };
}

/** The worker's peak resident memory while `count` jobs are in flight at once (their agents sleep 2 s). */
async function workerRssUnderLoad(w: WorkerProcess, submitJob: (command: string) => Promise<unknown>, count: number) {
  const idleMb = w.rssMb();
  let peakMb = idleMb;
  const timer = setInterval(() => (peakMb = Math.max(peakMb, w.rssMb())), 100);
  const t = now();
  try {
    await Promise.all(Array.from({ length: count }, () => submitJob('sleep 2')));
  } finally {
    clearInterval(timer);
  }
  return { jobs: count, idleMb: round1(idleMb), peakMb: round1(Math.max(peakMb, w.rssMb())), wallMs: Math.round(now() - t) };
}

/** A finished job's history: how many events, and the largest payload (input, result, heartbeat...) in bytes. */
async function historySize(c: DroverClient, jobId: string) {
  const history = await c.handle(jobId).fetchHistory();
  const events = history.events ?? [];
  let maxPayloadBytes = 0;
  let maxAt = '';
  const visit = (value: unknown, where: string): void => {
    if (!value || typeof value !== 'object') return;
    const v = value as { data?: unknown; metadata?: Record<string, Uint8Array> };
    if (v.data instanceof Uint8Array && v.metadata) {
      const size = v.data.byteLength + Object.entries(v.metadata).reduce((n, [k, m]) => n + k.length + (m?.byteLength ?? 0), 0);
      if (size > maxPayloadBytes) [maxPayloadBytes, maxAt] = [size, where];
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child, where);
  };
  for (const e of events) visit(e, `event ${e.eventId} (${e.eventType})`);
  return { jobId, events: events.length, maxPayloadBytes, largestPayloadIn: maxAt };
}

// ---------------------------------------------------------------------------------------------------------------
// main

async function main(): Promise<void> {
  const loadStart = loadavg();
  const cores = cpus().length;
  log(`load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} on ${cores} cores`);
  if ((loadStart[0] ?? 0) > cores * 0.5)
    log(`WARNING: the machine is busy (1-min load ${loadStart[0]?.toFixed(2)}); figures will be noisy`);
  log(`options: ${JSON.stringify({ ...opts, out: undefined })}`);
  log(`temp dir ${opts.tmpdir}: ${filesystemOf(opts.tmpdir)}`);
  ensureBuilt();

  root = mkdtempSync(join(opts.tmpdir, 'drover-bench-'));
  const temporalBin = await ensureTemporalCli((line) => log(line));
  const t0 = now();
  server = await startDevServer({ bin: temporalBin, dbFile: join(root, 'temporal', 'dev.db'), logFile: join(root, 'temporal-server.log') });
  log(`temporal dev server at ${server.address} (${Math.round(now() - t0)} ms to start)`);
  const parsed = DroverConfig.parse({
    temporal: { address: server.address, namespace: 'default' },
    taskQueue: `bench-${randomBytes(3).toString('hex')}`,
    dataDir: join(root, 'drover-data'),
  });
  const config: DroverConfig = { ...parsed, dataDir: join(root, 'drover-data') };
  const configFile = join(root, 'config.yaml');
  writeFileSync(configFile, '# the bench: no settings beyond the defaults and its environment\n');
  const env = droverEnv(config, configFile);
  const srcGit = gitFor(config);
  const t1 = now();
  worker = await startWorkerProcess(env, `bench-${randomBytes(3).toString('hex')}`);
  client = await DroverClient.connect(config);
  log(`worker pid ${worker.pid} on ${config.taskQueue} (${Math.round(now() - t1)} ms to start; ${round1(worker.rssMb())} MB resident)`);
  const droverClient = client;

  const repos: RepoInfo[] = [];
  for (const kind of opts.repos) {
    const info = kind === 'small' ? makeSmallRepo(root) : makeLargeRepo(root, opts.files);
    log(`generated ${kind} repo: ${info.files} files in ${Math.round(info.generateMs)} ms (${info.path})`);
    repos.push(info);
  }

  const submitAndWait = async (repoPath: string, command: string): Promise<{ jobId: string; result: JobResult }> => {
    const { jobId } = await droverClient.submit({ repo: repoPath, prompt: PROMPT, agent: { kind: 'command', command } });
    return { jobId, result: await withTimeout(droverClient.result(jobId), opts.jobTimeoutMs, `job ${jobId}`) };
  };
  let lastCommitJob: string | undefined;
  const job = async (repo: RepoInfo, mode: Mode): Promise<JobResult> => {
    const { jobId, result } = await submitAndWait(repo.path, AGENT_COMMAND[mode]);
    if (result.status !== EXPECTED_STATUS[mode]) {
      throw new Error(
        `job ${jobId}: status ${result.status}, expected ${EXPECTED_STATUS[mode]}${result.failure ? ` (${result.failure.type}: ${result.failure.message})` : ''}`,
      );
    }
    if (mode === 'commit') lastCommitJob = jobId;
    return result;
  };

  for (const repo of repos) {
    const worktrees = join(root, 'bench-worktrees', repo.kind);
    const clones = join(root, 'bench-clones', repo.kind);
    mkdirSync(worktrees, { recursive: true });
    mkdirSync(clones, { recursive: true });
    const mirror = join(root, 'bench-mirrors', `${repo.kind}.git`);
    await ensureBaselineMirror(repo.path, mirror);

    // 1. Preparing a workspace when the mirror exists, against `git worktree add` and a fresh clone. The
    //    prepare and worktree arms time only making the checkout (its removal afterwards is not timed); the
    //    clone arms time the whole clone.
    const prepare = async (viaSrcGit: boolean): Promise<number> => {
      const id = `p-${randomBytes(5).toString('hex')}`;
      const wt = join(worktrees, id);
      const t = now();
      const gitdir = `${wt}.git`;
      if (viaSrcGit) {
        await srcGit.syncMirror(repo.path, mirror, true, true, {});
        const sha = await srcGit.resolveBase(mirror, 'HEAD', {});
        await srcGit.createJobRepo({ mirror, repo: { gitdir, worktree: wt }, branch: `bench/${id}`, sha, exclude: ['/.drover/'] }, {});
      } else {
        await gitPrepare(repo.path, mirror, gitdir, wt, `bench/${id}`);
      }
      const ms = now() - t;
      rmSync(wt, { recursive: true, force: true });
      rmSync(gitdir, { recursive: true, force: true });
      return ms;
    };
    const worktreeAdd = async (): Promise<number> => {
      const wt = join(worktrees, `w-${randomBytes(5).toString('hex')}`);
      const t = now();
      await git(mirror, 'worktree', 'add', '--quiet', '--detach', wt, 'refs/drover/origin-head');
      const ms = now() - t;
      rmSync(wt, { recursive: true, force: true });
      await git(mirror, 'worktree', 'prune');
      return ms;
    };
    const clone = async (url: string): Promise<void> => {
      const dir = join(clones, `c-${randomBytes(5).toString('hex')}`);
      await git(clones, 'clone', '--quiet', url, dir);
      rmSync(dir, { recursive: true, force: true });
    };
    const large = repo.kind === 'large';
    const meta = (scenario: string, kind: Arm['meta']['kind'], mode?: Mode): Arm['meta'] => ({
      repo: repo.kind,
      scenario,
      kind,
      ...(mode ? { mode } : {}),
    });
    await interleaved(
      [
        { meta: meta('git: prepare (fetch + checkout)', 'git'), run: () => prepare(false), selfTimed: true },
        { meta: meta('src/git: prepare (simple-git)', 'git'), run: () => prepare(true), selfTimed: true },
        { meta: meta('git: worktree add', 'git'), run: worktreeAdd, selfTimed: true },
        { meta: meta('git: fresh clone (local path)', 'git'), run: () => clone(repo.path) },
        { meta: meta('git: fresh clone (file://)', 'git'), run: () => clone(`file://${repo.path}`) },
      ],
      large ? opts.largeGitSamples : opts.gitSamples,
    );

    // 2. Whole jobs: Drover against the same git commands run directly, at concurrency 1 and C.
    for (const mode of large ? opts.largeModes : opts.modes) {
      await resetOrigin(repo.path);
      const arms: Arm[] = [
        { meta: meta(`git baseline job (${mode})`, 'git', mode), run: () => baselineJob(repo.path, mirror, worktrees, mode) },
        { meta: meta(`drover job (${mode})`, 'drover', mode), run: () => job(repo, mode) },
      ];
      await interleaved(arms, large ? opts.largeSamples : opts.samples);
      const high = large ? opts.largeSamplesHigh : opts.samplesHigh;
      if (high > 0) await fanOut(arms, opts.concurrency, high);
    }
    await resetOrigin(repo.path);
  }

  // 3. The CLI as a person runs it, the worker's memory with many jobs in flight, and what a job's history holds.
  const small = repos.find((r) => r.kind === 'small') ?? repos[0]!;
  const extras: Record<string, unknown> = {};
  if (opts.cliSamples > 0) {
    extras.help = await timeCli(env, ['--help'], opts.cliSamples);
    log(`drover --help: p50 ${(extras.help as { p50: number }).p50} ms`);
    // A running job (its agent sleeps), so status asks the workflow through the worker as well as the server.
    const { jobId } = await droverClient.submit({ repo: small.path, prompt: PROMPT, agent: { kind: 'command', command: 'sleep 600' } });
    await waitForPhase(droverClient, jobId, 'running_agent');
    extras.status = await timeCli(env, ['status', jobId], opts.cliSamples);
    log(`drover status (running job): p50 ${(extras.status as { p50: number }).p50} ms`);
    await droverClient.handle(jobId).cancel();
    await droverClient.result(jobId).catch(() => undefined);
  }
  if (opts.rssJobs > 0) {
    extras.workerRss = await workerRssUnderLoad(worker, (command) => submitAndWait(small.path, command), opts.rssJobs);
    log(`worker memory with ${opts.rssJobs} jobs in flight: ${JSON.stringify(extras.workerRss)}`);
  }
  if (lastCommitJob) {
    extras.history = await historySize(droverClient, lastCommitJob);
    log(`history of a succeeded job: ${JSON.stringify(extras.history)}`);
  }

  const loadEnd = loadavg();
  printTable(repos);
  const report = {
    date: new Date().toISOString(),
    host: {
      cores,
      cpu: cpus()[0]?.model ?? 'unknown',
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
      git: gitSync('/', '--version'),
      temporalCli: execFileSync(temporalBin, ['--version'], { encoding: 'utf8' }).trim(),
      tmpdir: opts.tmpdir,
      tmpdirFilesystem: filesystemOf(opts.tmpdir),
      loadavgStart: loadStart.map((l) => Math.round(l * 100) / 100),
      loadavgEnd: loadEnd.map((l) => Math.round(l * 100) / 100),
    },
    options: { ...opts, out: undefined, agentCommands: AGENT_COMMAND, worker: parsed.worker },
    droverCommit: (() => {
      try {
        const dirty = gitSync(REPO_ROOT, 'status', '--porcelain', '--', 'src') !== '';
        return `${gitSync(REPO_ROOT, 'rev-parse', '--short', 'HEAD')}${dirty ? ' (src/ has uncommitted changes)' : ''}`;
      } catch {
        return 'unknown';
      }
    })(),
    repos: repos.map((r) => ({ kind: r.kind, files: r.files, generateMs: Math.round(r.generateMs) })),
    overhead: overheadRows(),
    headline: headline(extras),
    extras,
    results,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${opts.out}`);
  if (opts.json) process.stdout.write(`${JSON.stringify(report.headline)}\n`);
}

async function waitForPhase(c: DroverClient, jobId: string, phase: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await c.status(jobId)).phase !== phase) {
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not reach ${phase} within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The figures issue 10 names, each next to its baseline (ms unless the name says otherwise; null: not run). */
function headline(extras: Record<string, unknown>) {
  const p50 = (repo: RepoKind, scenario: string, concurrency = 1) =>
    results.find((r) => r.repo === repo && r.scenario === scenario && r.concurrency === concurrency)?.p50 ?? null;
  const largeJobs = results.find((r) => r.repo === 'large' && r.scenario === 'drover job (noop)' && r.concurrency === 1);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null);
  const ex = extras as {
    help?: { p50: number };
    status?: { p50: number };
    workerRss?: { peakMb: number };
    history?: { events: number; maxPayloadBytes: number };
  };
  return {
    noopP50Ms: num(p50('small', 'drover job (noop)')),
    noopGitP50Ms: num(p50('small', 'git baseline job (noop)')),
    commitP50Ms: num(p50('small', 'drover job (commit)')),
    commitGitP50Ms: num(p50('small', 'git baseline job (commit)')),
    c8NoopP50Ms: num(p50('small', 'drover job (noop)', opts.concurrency)),
    c8NoopGitP50Ms: num(p50('small', 'git baseline job (noop)', opts.concurrency)),
    prepareLargeMs: num(largeJobs?.phasesP50Ms?.preparing),
    worktreeAddLargeMs: num(p50('large', 'git: worktree add')),
    cloneLargeMs: num(p50('large', 'git: fresh clone (local path)')),
    helpMs: num(ex.help?.p50),
    statusMs: num(ex.status?.p50),
    workerRssMb32: num(ex.workerRss?.peakMb),
    historyEvents: num(ex.history?.events),
    maxPayloadBytes: num(ex.history?.maxPayloadBytes),
  };
}

function overheadRows() {
  const rows: {
    repo: RepoKind;
    mode: Mode;
    concurrency: number;
    droverP50: number;
    gitP50: number;
    overheadP50Ms: number;
    ratio: number;
  }[] = [];
  for (const d of results.filter((r) => r.kind === 'drover')) {
    const g = results.find((r) => r.kind === 'git' && r.repo === d.repo && r.mode === d.mode && r.concurrency === d.concurrency);
    if (!g || !d.mode) continue;
    rows.push({
      repo: d.repo,
      mode: d.mode,
      concurrency: d.concurrency,
      droverP50: d.p50,
      gitP50: g.p50,
      overheadP50Ms: round1(d.p50 - g.p50),
      ratio: Math.round((d.p50 / g.p50) * 100) / 100,
    });
  }
  return rows;
}

function printTable(repos: RepoInfo[]): void {
  const header = ['repo', 'scenario', 'conc', 'n', 'p50 ms', 'p95 ms', 'max ms', 'jobs/s', 'err'];
  const rows = results.map((r) => [
    `${r.repo} (${repos.find((x) => x.kind === r.repo)?.files ?? '?'} files)`,
    r.scenario,
    String(r.concurrency),
    String(r.n),
    r.p50.toFixed(0),
    r.p95.toFixed(0),
    r.max.toFixed(0),
    r.concurrency > 1 ? r.perSecond.toFixed(2) : '',
    r.errors.length ? String(r.errors.length) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const right = new Set([2, 3, 4, 5, 6, 7, 8]);
  const fmt = (row: string[]) =>
    `| ${row.map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const lines = [
    fmt(header),
    `|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`,
    ...rows.map(fmt),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);

  const over = overheadRows();
  if (over.length > 0) {
    process.stdout.write('\nDrover/Temporal overhead over raw git (p50):\n\n');
    const h2 = ['repo', 'mode', 'conc', 'drover p50', 'git p50', 'overhead ms', 'ratio'];
    const r2 = over.map((o) => [
      o.repo,
      o.mode,
      String(o.concurrency),
      o.droverP50.toFixed(0),
      o.gitP50.toFixed(0),
      o.overheadP50Ms.toFixed(0),
      `${o.ratio.toFixed(2)}x`,
    ]);
    const w2 = h2.map((h, i) => Math.max(h.length, ...r2.map((row) => row[i]?.length ?? 0)));
    const f2 = (row: string[]) => `| ${row.map((c, i) => (i >= 2 ? c.padStart(w2[i] ?? 0) : c.padEnd(w2[i] ?? 0))).join(' | ')} |`;
    process.stdout.write(
      `${[f2(h2), `|${w2.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`, ...r2.map(f2)].join('\n')}\n`,
    );
  }
  const phased = results.filter((r) => r.phasesP50Ms);
  if (phased.length > 0) {
    process.stdout.write('\nPhase medians, ms (Drover: workflow time from JobResult.durationsMs; git baseline: wall time):\n\n');
    for (const r of phased) {
      const parts = Object.entries(r.phasesP50Ms ?? {})
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k}=${v.toFixed(0)}`);
      const loop =
        r.kind === 'drover'
          ? `   (event loop p99 ${r.eventLoopDelayMs.p99.toFixed(0)} ms, max ${r.eventLoopDelayMs.max.toFixed(0)} ms)`
          : '';
      process.stdout.write(`  ${r.repo.padEnd(5)} ${r.scenario.padEnd(25)} c=${r.concurrency}  ${parts.join('  ')}${loop}\n`);
    }
  }
  process.stdout.write('\n');
}

// ---------------------------------------------------------------------------------------------------------------

const deadline = setTimeout(() => {
  log(`deadline of ${opts.deadlineMs / 60_000} min reached; aborting`);
  void cleanup().finally(() => process.exit(2));
}, opts.deadlineMs);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
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
    await cleanup();
    // The SDK's native runtime keeps handles open; the bench has nothing left to do.
    process.exit(code);
  });
