/** Test support: a real Temporal dev server, real git repositories, real workers on unique task queues. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { DroverConfig, type DroverConfigInput } from '../../src/config/schema.js';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { startWorker, type DroverWorker } from '../../src/worker.js';
import { DroverClient } from '../../src/client.js';

export const tempDir = (prefix = 'drover-test-') => mkdtempSync(join(tmpdir(), prefix));

export async function startTestServer(
  opts: { dbFile?: string; port?: number } = {},
): Promise<DevServer & { dbFile: string; logFile: string }> {
  const bin = await ensureTemporalCli();
  const dir = tempDir('drover-server-');
  const dbFile = opts.dbFile ?? join(dir, 'dev.db');
  const logFile = join(dir, 'server.log');
  const server = await startDevServer({ bin, dbFile, logFile, ...(opts.port ? { port: opts.port } : {}) });
  return { ...server, dbFile, logFile };
}

export function testConfig(address: string, overrides: DroverConfigInput = {}): DroverConfig {
  const parsed = DroverConfig.parse({
    temporal: { address, namespace: 'default' },
    taskQueue: `test-${randomBytes(4).toString('hex')}`,
    workerId: `w-${randomBytes(3).toString('hex')}`,
    ...overrides,
    // Tests of the command agent need no CLI checks at worker start; tests of CLI agents name theirs.
    worker: { backends: ['command'], docker: false, ...overrides.worker },
  });
  return { ...parsed, dataDir: parsed.dataDir ?? tempDir('drover-data-') };
}

export interface TestEnv {
  /** The value of DROVER_TEST_API_KEY in the worker's environment. */
  secret: string;
  config: DroverConfig;
  client: DroverClient;
  worker: DroverWorker;
  stop(): Promise<void>;
}

/** A client and a worker on a fresh task queue and data dir. */
export async function startTestEnv(
  address: string,
  overrides: DroverConfigInput = {},
  workerEnv: Record<string, string> = {},
): Promise<TestEnv> {
  const config = testConfig(address, overrides);
  const secret = `sk-test-${randomBytes(12).toString('hex')}`;
  const worker = await startWorker(config, { ...process.env, DROVER_TEST_API_KEY: secret, ...workerEnv });
  const client = await DroverClient.connect(config);
  return {
    secret,
    config,
    client,
    worker,
    async stop() {
      await worker.shutdown();
      await client.close();
    },
  };
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' }).trim();
}

/** A real repository with one commit on main. */
export function makeRepo(
  files: Record<string, string> = { 'README.md': '# demo\n', 'hello.txt': 'hello\n' },
  prefix = 'drover-repo-',
): string {
  const dir = tempDir(prefix);
  git(dir, 'init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(200);
  }
}

/** True while the process runs; a zombie (dead, not yet reaped by an init that may never reap) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSyncSafe(`/proc/${pid}/stat`);
  return !stat || !/^\d+ \(.*\) Z/.test(stat);
}

function readFileSyncSafe(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export const REPO_ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (an in-process worker must keep running meanwhile). */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The drover CLI, as a user runs it, pointed at a test's server, queue and data dir. */
export function drover(config: DroverConfig, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run(process.execPath, [`${REPO_ROOT}/bin/drover.js`, ...args], {
    env: {
      TEMPORAL_ADDRESS: config.temporal.address,
      DROVER_TASK_QUEUE: config.taskQueue,
      DROVER_DATA_DIR: config.dataDir,
      ...env,
    },
  });
}

/**
 * A worker in its own process (`drover worker`), so it can be killed with SIGKILL like a crashed machine.
 * Resolves once it polls; `env` adds to the test's environment (DROVER_CONFIG, DROVER_DOCKER, credentials).
 */
export function workerProcess(config: DroverConfig, workerId: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  // A test's SIGTERM in its cleanup should not leave a draining worker behind for the default 10 minutes.
  const args = [`${REPO_ROOT}/bin/drover.js`, 'worker', '--worker-id', workerId, '--drain-timeout', '10s'];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.temporal.address,
      DROVER_TASK_QUEUE: config.taskQueue,
      DROVER_DATA_DIR: config.dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('polling') && resolve(child));
    child.on('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

/** A shell script agent in a temp dir; returns the path. */
export function agentScript(body: string): string {
  const path = join(tempDir('drover-agent-'), 'agent.sh');
  writeFileSync(path, `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`, { mode: 0o755 });
  return path;
}

/** All text in a history, payload bytes decoded, for checking what a UI user could read. */
export function historyText(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return parts.join('\n');
}

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** Registers before/after hooks for a dev server and a worker shared by a describe block's tests. */
export function serverAndWorker(
  overrides: DroverConfigInput = {},
  workerEnv: Record<string, string> = {},
): { server: TestServer; env: TestEnv } {
  const ctx = {} as { server: TestServer; env: TestEnv };
  before(async () => {
    ctx.server = await startTestServer();
    ctx.env = await startTestEnv(ctx.server.address, overrides, workerEnv);
  });
  after(async () => {
    await ctx.env?.stop();
    await ctx.server?.stop();
  });
  return ctx;
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word (a git remote that hangs). */
export async function startSilentServer(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const { createServer } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  let count = 0;
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as import('node:net').AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
