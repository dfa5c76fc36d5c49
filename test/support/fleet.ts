/**
 * Drover as it runs on several machines: a Temporal cluster on PostgreSQL, an origin served over HTTP with
 * credentials, and worker processes that share nothing but those two (each its own data dir, mirror, config).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { DroverConfig } from '../../src/config/schema.js';
import { DroverClient } from '../../src/client.js';
import { type GitHttpOrigin, startGitHttpOrigin } from './git-http-origin.js';
import { REPO_ROOT, drover, makeRepo, type Run, tempDir, testConfig } from './harness.js';
import { type Cluster, type ClusterOptions, startCluster } from './temporal-cluster.js';

export interface FleetWorker {
  id: string;
  config: DroverConfig;
  /** host:port of its Prometheus endpoint. */
  metrics: string;
  process: ChildProcess | undefined;
  /** What it printed on stderr, for assertions on drain messages. */
  stderr: string;
  start(extraArgs?: string[]): Promise<ChildProcess>;
  kill(signal?: NodeJS.Signals): void;
  /** Its exit code, or the signal that ended it. */
  exited(): Promise<number | string | null>;
}

export interface Fleet {
  cluster: Cluster;
  origin: GitHttpOrigin;
  client: DroverClient;
  /** A config for the CLI on a machine without a worker: its own empty data dir. */
  cliConfig: DroverConfig;
  workers: FleetWorker[];
  /** A fresh repository on the origin; returns its URL. */
  newRepo(files?: Record<string, string>): { url: string; bare: string };
  drover(args: string[], worker?: FleetWorker): Promise<Run>;
  stop(): Promise<void>;
}

export async function startFleet(size: number, clusterOptions: ClusterOptions = {}): Promise<Fleet> {
  const cluster = await startCluster(clusterOptions);
  const origin = await startGitHttpOrigin({ user: 'drover', password: `pw-${randomBytes(8).toString('hex')}` });
  const taskQueue = `fleet-${randomBytes(4).toString('hex')}`;
  const cliConfig = testConfig(cluster.address, { taskQueue, git: { protocols: ['http'] } });
  const configFile = join(tempDir('drover-fleet-'), 'config.yaml');
  writeFileSync(configFile, 'git:\n  protocols: [http]\nworker:\n  backends: [command]\n  docker: false\n');
  const env = { ...origin.askpassEnv(), DROVER_CONFIG: configFile };
  const workers: FleetWorker[] = [];
  for (let i = 0; i < size; i++)
    workers.push(fleetWorker(`host${i + 1}-${randomBytes(2).toString('hex')}`, cliConfig, env, await freePort()));
  await Promise.all(workers.map((w) => w.start()));
  const client = await DroverClient.connect(cliConfig);
  let n = 0;
  return {
    cluster,
    origin,
    client,
    cliConfig,
    workers,
    newRepo(files) {
      const name = `repo${++n}-${randomBytes(2).toString('hex')}`;
      return { url: origin.url(name), bare: origin.addBareRepo(name, makeRepo(files)) };
    },
    drover: (args, worker) => drover(worker?.config ?? cliConfig, args, { ...env, TEMPORAL_ADDRESS: cluster.address }),
    async stop() {
      for (const w of workers) w.kill('SIGKILL');
      await client.close().catch(() => undefined);
      await origin.stop();
      await cluster.stop();
    },
  };
}

function fleetWorker(id: string, shared: DroverConfig, env: Record<string, string>, metricsPort: number): FleetWorker {
  const config: DroverConfig = { ...shared, workerId: id, dataDir: tempDir(`drover-${id}-`) };
  const metrics = `127.0.0.1:${metricsPort}`;
  let exit: Promise<number | string | null> = Promise.resolve(null);
  const worker: FleetWorker = {
    id,
    config,
    metrics,
    process: undefined,
    stderr: '',
    start(extraArgs = []) {
      const args = [`${REPO_ROOT}/bin/drover.js`, 'worker', '--worker-id', id, '--metrics', metrics, ...extraArgs];
      const child = spawn(process.execPath, args, {
        env: {
          ...process.env,
          ...env,
          TEMPORAL_ADDRESS: config.temporal.address,
          DROVER_TASK_QUEUE: config.taskQueue,
          DROVER_DATA_DIR: config.dataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      worker.process = child;
      child.stderr!.on('data', (d: Buffer) => {
        worker.stderr += d.toString();
      });
      exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
      return new Promise((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('polling') && resolve(child));
        child.once('exit', (code) => reject(new Error(`worker ${id} exited early with ${code}: ${worker.stderr.slice(-2000)}`)));
      });
    },
    kill(signal = 'SIGTERM') {
      if (worker.process && worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill(signal);
    },
    exited: () => exit,
  };
  return worker;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
