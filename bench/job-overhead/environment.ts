/** The shared environment: dist/ built, a Temporal dev server, one Drover worker process, a client. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DroverClient } from '../../src/client.js';
import { DroverConfig } from '../../src/config/schema.js';
import type { Git } from '../../src/git/git.js';
import { gitFor } from '../../src/git/git-for-config.js';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server.js';
import type { BenchOptions } from './options.js';
import { DROVER_BIN, log, now, REPO_ROOT, round1 } from './shared.js';

export interface WorkerProcess {
  pid: number;
  /** Resident memory now, in MB (VmRSS). */
  rssMb(): number;
  stop(): Promise<void>;
}

export interface BenchEnvironment {
  root: string;
  temporalBin: string;
  config: DroverConfig;
  /** The environment of every `drover` process the bench starts. */
  env: NodeJS.ProcessEnv;
  srcGit: Git;
  worker: WorkerProcess;
  client: DroverClient;
}

/** What has been started so far, so that a failed start, Ctrl-C and the deadline all stop exactly that. */
export class Resources {
  root = '';
  server: DevServer | undefined;
  worker: WorkerProcess | undefined;
  client: DroverClient | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly keep: boolean) {}

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.worker?.stop().catch((err) => log(`worker shutdown: ${(err as Error).message}`));
      await this.client?.close().catch(() => undefined);
      await this.server?.stop().catch(() => undefined);
      if (this.root && !this.keep) rmSync(this.root, { recursive: true, force: true });
      else if (this.root) log(`kept ${this.root}`);
    })();
    return this.stopping;
  }
}

/** dist/ is what the worker and the CLI run: rebuild it when src/ changed since. */
export function ensureBuilt(): void {
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

/** Starts everything in a fresh temp dir, recording each piece in `resources` as soon as it runs. */
export async function startEnvironment(opts: BenchOptions, resources: Resources): Promise<BenchEnvironment> {
  const root = mkdtempSync(join(opts.tmpdir, 'drover-bench-'));
  resources.root = root;
  const temporalBin = await ensureTemporalCli((line) => log(line));
  const t0 = now();
  const server = await startDevServer({
    bin: temporalBin,
    dbFile: join(root, 'temporal', 'dev.db'),
    logFile: join(root, 'temporal-server.log'),
  });
  resources.server = server;
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
  const worker = await startWorkerProcess(env, `bench-${randomBytes(3).toString('hex')}`);
  resources.worker = worker;
  const client = await DroverClient.connect(config);
  resources.client = client;
  log(`worker pid ${worker.pid} on ${config.taskQueue} (${Math.round(now() - t1)} ms to start; ${round1(worker.rssMb())} MB resident)`);
  return { root, temporalBin, config, env, srcGit, worker, client };
}
