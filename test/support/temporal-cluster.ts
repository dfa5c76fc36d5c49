/**
 * A real Temporal cluster for integration tests: PostgreSQL in a temp dir, the schema from temporal-sql-tool,
 * and frontend, history, matching and worker as four processes, so tests can restart one service or the
 * database under a running job. The dev server runs all of that in one process on SQLite and cannot.
 * long: one harness in four parts (PostgreSQL, server config, processes, readiness); PostgreSQL can move to its own
 * file once a second test helper needs it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { stringify } from 'yaml';
import { findOnPath } from '../../src/executables.js';
import { freePort, LOW_LATENCY } from '../../src/temporal/dev-server.js';
import { ensureTemporalServer, temporalSchemaDir } from '../../src/temporal/server-binary.js';

export type ServiceName = 'frontend' | 'history' | 'matching' | 'worker';

export interface ClusterTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** The name the certificate is checked against; `localhost` unless given. */
  serverName?: string;
}

export interface ClusterOptions {
  tls?: ClusterTls;
  /** Dynamic config keys and values; a value that is a list of `{ value, constraints }` is used as it is. */
  dynamicConfig?: Record<string, unknown>;
  namespace?: string;
}

export interface Cluster {
  address: string;
  namespace: string;
  dir: string;
  /** Connection options for a client of this cluster (TLS included). */
  connectionOptions: ConnectionOptions;
  services: Record<ServiceName, { pid: number; logFile: string }>;
  restartService(name: ServiceName): Promise<void>;
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

/** History and matching first, so the frontend finds them in the membership ring when it starts taking calls. */
const START_ORDER: ServiceName[] = ['history', 'matching', 'frontend', 'worker'];
const START_TIMEOUT_MS = 180_000;
const RESTART_TIMEOUT_MS = 120_000;
const DB = { user: 'temporal', password: 'temporal' };
const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;
/** Synchronous cleanups for `exit` and signals, so a crashed test does not leave postgres and servers running. */
const liveClusters = new Set<() => void>();

// ---- PostgreSQL

interface Postgres {
  port: number;
  dataDir: string;
  logFile: string;
  pid(): number | undefined;
  ctl(...args: string[]): Promise<void>;
}

/** Postgres refuses to run as root: as root, its commands run as the `postgres` user the Debian package creates. */
async function pg(bin: string, args: string[], cwd: string): Promise<string> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    return (await run(cmd, argv, { cwd, encoding: 'utf8' })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** The newest /usr/lib/postgresql/<v>/bin, else the dir of the initdb on PATH (resolving Debian's symlinks). */
function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'postgres')));
  if (found) return found;
  const initdb = findOnPath('initdb', process.env);
  if (initdb) return dirname(realpathSync(initdb));
  throw new Error('no PostgreSQL server found (/usr/lib/postgresql/*/bin or initdb on PATH): apt-get install postgresql');
}

async function startPostgres(dir: string): Promise<Postgres> {
  const bin = pgBinDir();
  const pgDir = join(dir, 'pg');
  const dataDir = join(pgDir, 'data');
  const sockDir = join(pgDir, 'sock');
  mkdirSync(sockDir, { recursive: true });
  if (asRoot) {
    const [uid, gid] = await Promise.all(['-u', '-g'].map(async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim())));
    for (const path of [pgDir, sockDir]) chownSync(path, uid!, gid!);
  }
  const port = await freePort();
  await pg(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
    dir,
  );
  // Throwaway data: durability settings off for speed; enough connections for four services' pools.
  const conf = [`port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${sockDir}'`, 'max_connections = 200'];
  conf.push('fsync = off', 'synchronous_commit = off', 'full_page_writes = off', 'shared_buffers = 32MB');
  writeFileSync(join(dataDir, 'postgresql.conf'), `${readFileSync(join(dataDir, 'postgresql.conf'), 'utf8')}\n${conf.join('\n')}\n`);
  const logFile = join(pgDir, 'postgres.log');
  const ctl = async (...args: string[]) =>
    void (await pg(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', ...args], dir));
  await ctl('start');
  const sql = `CREATE ROLE ${DB.user} LOGIN CREATEDB PASSWORD '${DB.password}'`;
  await pg(
    join(bin, 'psql'),
    ['-h', sockDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    dir,
  );
  const pid = () => {
    const pidFile = join(dataDir, 'postmaster.pid');
    return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) || undefined : undefined;
  };
  return { port, dataDir, logFile, pid, ctl };
}

async function setupSchema(sqlTool: string, port: number): Promise<void> {
  const schemaDir = temporalSchemaDir();
  const setup = async (db: string, schema: string) => {
    const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(port), '-u', DB.user, '--pw', DB.password, '--db', db];
    for (const step of [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '-d', join(schemaDir, schema, 'versioned')],
    ]) {
      await run(sqlTool, [...base, ...step]).catch((err) => {
        throw new Error(`temporal-sql-tool ${step[0]} on ${db} failed: ${err.stderr || err.message}`);
      });
    }
  };
  await Promise.all([setup('temporal', 'temporal'), setup('temporal_visibility', 'visibility')]);
}

// ---- Server config

type Ports = Record<ServiceName, { grpcPort: number; membershipPort: number }>;

function dynamicConfigYaml(extra: Record<string, unknown> = {}): string {
  const settings: Record<string, unknown> = Object.fromEntries(LOW_LATENCY.map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
  // A search attribute registered by a test is usable at once, not after the cache's refresh interval.
  Object.assign(
    settings,
    { 'system.forceSearchAttributesCacheRefreshOnRead': true, 'frontend.enableUpdateWorkflowExecution': true },
    extra,
  );
  const isList = (v: unknown) => Array.isArray(v) && v.every((e) => typeof e === 'object' && e !== null && 'value' in e);
  return stringify(Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, isList(v) ? v : [{ value: v, constraints: {} }]])));
}

function tlsConfig(tls: ClusterTls): Record<string, unknown> {
  const client = { serverName: tls.serverName ?? 'localhost', rootCaFiles: [tls.caFile] };
  // The system worker reads systemWorker.client (then frontend.client) to reach the frontend; internode stays plain.
  return { frontend: { server: { certFile: tls.certFile, keyFile: tls.keyFile }, client }, systemWorker: { client } };
}

function writeServerConfig(dir: string, ports: Ports, pgPort: number, opts: ClusterOptions): void {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${pgPort}`,
      connectProtocol: 'tcp',
      ...DB,
      maxConns,
      maxIdleConns: maxConns,
    },
  });
  const dynamicFile = join(dir, 'config', 'dynamicconfig.yaml');
  const config = {
    log: { stdout: true, level: 'info' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: 4,
      datastores: { default: store('temporal', 10), visibility: store('temporal_visibility', 4) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' }, ...(opts.tls ? { tls: tlsConfig(opts.tls) } : {}) },
    services: Object.fromEntries(START_ORDER.map((name) => [name, { rpc: { ...ports[name], bindOnLocalHost: true } }])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend.grpcPort}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicFile, pollInterval: '10s' },
  };
  mkdirSync(join(dir, 'config'), { recursive: true });
  writeFileSync(join(dir, 'config', 'development.yaml'), stringify(config));
  writeFileSync(dynamicFile, dynamicConfigYaml(opts.dynamicConfig));
}

// ---- Readiness

const tail = (file: string, lines = 30) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
const grpcCode = (err: unknown) => (err as { code?: number }).code;

/** One call that only succeeds once `name` serves through the frontend (a NotFound from history means history answered). */
async function probe(conn: Connection, name: ServiceName, namespace: string): Promise<void> {
  const svc = conn.workflowService;
  if (name === 'frontend') await svc.getSystemInfo({});
  if (name === 'history') {
    try {
      await svc.describeWorkflowExecution({ namespace, execution: { workflowId: 'drover-cluster-probe' } });
    } catch (err) {
      if (grpcCode(err) !== 5 || /namespace/i.test((err as Error).message)) throw err;
    }
  }
  if (name === 'matching') await svc.describeTaskQueue({ namespace, taskQueue: { name: 'drover-cluster-probe' }, taskQueueType: 1 });
}

async function ensureNamespace(conn: Connection, namespace: string): Promise<void> {
  try {
    await conn.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (grpcCode(err) !== 5) throw err;
    await conn.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(24 * 3600 * 1000) }).catch((e) => {
      if (grpcCode(e) !== 6) throw e; // ALREADY_EXISTS: a concurrent caller won
    });
  }
  // Registration reaches the frontend's and history's namespace caches asynchronously.
  await conn.workflowService.describeNamespace({ namespace });
  await conn.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
}

// ---- The services

/** The four server processes: each logs to its own file, appended to across restarts. */
class Services {
  readonly children = new Map<ServiceName, ChildProcess>();
  private readonly logStart = new Map<ServiceName, number>();

  constructor(
    private readonly server: string,
    private readonly dir: string,
  ) {}

  logFile = (name: ServiceName) => join(this.dir, `${name}.log`);

  launch(name: ServiceName): void {
    const out = openSync(this.logFile(name), 'a');
    this.logStart.set(name, statSync(this.logFile(name)).size);
    const args = ['--root', this.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start', '--service', name];
    this.children.set(name, spawn(this.server, args, { stdio: ['ignore', out, out] }));
    closeSync(out);
  }

  /** What the current process of `name` has logged, not its predecessors. */
  logSince(name: ServiceName): string {
    return readFileSync(this.logFile(name), 'utf8').slice(this.logStart.get(name) ?? 0);
  }

  throwIfExited(): void {
    for (const [name, child] of this.children) {
      if (child.exitCode !== null)
        throw new Error(`temporal ${name} exited (code ${child.exitCode}); see ${this.logFile(name)}:\n${tail(this.logFile(name))}`);
    }
  }

  killAll(): void {
    for (const child of this.children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  snapshot(): Cluster['services'] {
    return Object.fromEntries(
      START_ORDER.map((name) => [name, { pid: this.children.get(name)?.pid ?? 0, logFile: this.logFile(name) }]),
    ) as Cluster['services'];
  }
}

/**
 * History alone first: every service writes the cluster metadata and system namespace on its first start, and
 * four at once on an empty database collide on the insert (a duplicate key fails the loser's start).
 */
async function launchAll(services: Services): Promise<void> {
  services.launch('history');
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!services.logSince('history').includes('Starting to serve on history listener')) {
    services.throwIfExited();
    if (Date.now() > deadline) throw new Error(`temporal history did not start; see ${services.logFile('history')}`);
    await delay(100);
  }
  for (const name of START_ORDER.filter((n) => n !== 'history')) services.launch(name);
}

// ---- The cluster

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const { server, sqlTool } = await ensureTemporalServer();
  const dir = mkdtempSync(join(tmpdir(), 'drover-cluster-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data dir inside
  const namespace = opts.namespace ?? 'default';
  const services = new Services(server, dir);
  let postgres: Postgres | undefined;
  const killAll = () => {
    services.killAll();
    const pid = postgres?.pid();
    if (pid) tryKill(pid, 'SIGQUIT'); // postgres's immediate shutdown
  };
  registerCleanup(killAll);
  try {
    postgres = await startPostgres(dir);
    await setupSchema(sqlTool, postgres.port);
    const ports = Object.fromEntries(
      await Promise.all(
        START_ORDER.map(async (name) => [name, { grpcPort: await freePort(), membershipPort: await lowFreePort() }] as const),
      ),
    ) as Ports;
    writeServerConfig(dir, ports, postgres.port, opts);
    const address = `127.0.0.1:${ports.frontend.grpcPort}`;
    const connectionOptions: ConnectionOptions = { address, ...(opts.tls ? { tls: clientTls(opts.tls) } : {}) };
    await launchAll(services);
    await waitForCluster({ connectionOptions, namespace, services, timeoutMs: START_TIMEOUT_MS });
    return makeCluster({ address, namespace, dir, connectionOptions, services, postgres, killAll });
  } catch (err) {
    killAll();
    liveClusters.delete(killAll);
    throw err;
  }
}

interface ClusterParts {
  address: string;
  namespace: string;
  dir: string;
  connectionOptions: ConnectionOptions;
  services: Services;
  postgres: Postgres;
  killAll: () => void;
}

function makeCluster(p: ClusterParts): Cluster {
  const cluster: Cluster = {
    address: p.address,
    namespace: p.namespace,
    dir: p.dir,
    connectionOptions: p.connectionOptions,
    services: p.services.snapshot(),
    restartService: async (name) => {
      await stopChild(p.services.children.get(name));
      p.services.launch(name);
      cluster.services = p.services.snapshot();
      await waitForCluster({ ...p, timeoutMs: RESTART_TIMEOUT_MS });
    },
    restartPostgres: async () => {
      await p.postgres.ctl('-m', 'fast', 'stop');
      await p.postgres.ctl('start');
    },
    stop: async () => {
      const pgPid = p.postgres.pid();
      p.killAll();
      await Promise.all([...p.services.children.values()].map((child) => stopChild(child)));
      await waitGone(pgPid);
      liveClusters.delete(p.killAll);
      rmSync(p.dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

function clientTls(tls: ClusterTls): ConnectionOptions['tls'] {
  return { serverRootCACertificate: readFileSync(tls.caFile), serverNameOverride: tls.serverName ?? 'localhost' };
}

interface WaitArgs {
  connectionOptions: ConnectionOptions;
  namespace: string;
  services: Services;
  timeoutMs: number;
}

/** Polls until the frontend answers, the namespace is usable, history and matching serve, and the worker service has started. */
async function waitForCluster(w: WaitArgs): Promise<void> {
  const deadline = Date.now() + w.timeoutMs;
  let lastError = 'no attempt yet';
  for (;;) {
    w.services.throwIfExited();
    try {
      const conn = await Connection.connect({ ...w.connectionOptions, connectTimeout: 2_000 });
      try {
        await conn.withDeadline(Date.now() + 5_000, async () => {
          await probe(conn, 'frontend', w.namespace);
          await ensureNamespace(conn, w.namespace);
          for (const name of START_ORDER) await probe(conn, name, w.namespace);
        });
      } finally {
        await conn.close();
      }
      if (w.services.logSince('worker').includes('worker service started')) return;
      lastError = 'the worker service has not logged "worker service started"';
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      const logs = START_ORDER.map(w.services.logFile).join(', ');
      const frontendTail = tail(w.services.logFile('frontend'));
      throw new Error(
        `temporal cluster not ready after ${w.timeoutMs / 1000}s (${lastError}); logs: ${logs}\nfrontend log tail:\n${frontendTail}`,
      );
    }
    await delay(500);
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(force);
}

/**
 * A free port below 32768: the membership table stores ports as a signed smallint, and the kernel's
 * ephemeral ports (what port 0 gives) start at 32768.
 */
async function lowFreePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function tryKill(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number | undefined): Promise<void> {
  for (let i = 0; pid && i < 100 && tryKill(pid, 0); i++) await delay(100);
}

let cleanupInstalled = false;

function registerCleanup(cleanup: () => void): void {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.on('exit', () => {
      for (const fn of liveClusters) fn();
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        for (const fn of liveClusters) fn();
        process.kill(process.pid, signal); // the default action, now that this handler is gone
      });
    }
  }
  liveClusters.add(cleanup);
}
