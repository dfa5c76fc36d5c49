/**
 * Drover's worker: one process, several Temporal workers: the shared job queue (workflows), this host's private
 * queue (everything that touches its worktrees) and one queue per backend it has (where jobs land).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, DefaultLogger, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createDepCache, parseSize } from '../activities/dep-cache.js';
import { createSpares } from '../activities/spares.js';
import { resolveMiniCommand } from './python-agents.js';
import { dataPaths } from '../config/paths.js';
import type { DroverConfig } from '../config/schema.js';
import { createHostRuntime } from '../runtimes/host-runtime.js';
import { backendQueueFor, dockerQueueFor, hostQueueFor } from '../shared/ids.js';
import { readEnvFiles } from '../config/env-file.js';
import { checkBackends, type BackendCheck } from './backends.js';
import { setUpDocker, type DockerSetup } from './docker.js';
import { AppError } from '../shared/errors.js';
import { resolveWorkerId } from './id.js';
import { lockDataDir } from './data-dir-lock.js';
import { gitFor } from '../git/git-for-config.js';
import { createSpawner } from '../git/spawner.js';
import { policyFrom } from '../config/policy.js';
import { findLeftovers, stopOrphanFetches, sweep, whereaboutsFrom, type SweepReport } from './sweep.js';

/** Running from dist/ (compiled), or from the TypeScript sources through tsx (tests, development). */
const COMPILED = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index.${COMPILED ? 'js' : 'ts'}`, import.meta.url));
/** Made by `npm run build` with the rest of dist/. */
const PREBUILT_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

let bundle: Promise<WorkflowBundleOption> | undefined;
/**
 * The workflow code: the bundle the build made, when running from dist/; otherwise bundled once per process
 * (webpack: seconds, and memory the process keeps).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  bundle ??=
    COMPILED && existsSync(PREBUILT_BUNDLE)
      ? Promise.resolve({ codePath: PREBUILT_BUNDLE })
      : bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

let runtimeInstalled = false;
/** Quiet SDK logs by default; Runtime.install may run only once per process. */
export function installRuntime(level: 'WARN' | 'INFO' | 'DEBUG' = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const logger = new DefaultLogger(level, (entry) => {
    // The host queue has no workflows by design; the SDK's warning about it is noise.
    if (entry.message.startsWith('No workflows registered')) return;
    process.stderr.write(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}\n`);
  });
  Runtime.install({ logger, shutdownSignals: [] });
}

export interface DroverWorker {
  workerId: string;
  hostQueue: string;
  /** What this worker found of each backend; only the available ones get a queue. */
  backends: BackendCheck[];
  /** The docker runtime: its warm pool, or why there is none. */
  docker: DockerSetup;
  /** The sweep of what finished or moved jobs left on this worker, which runs once it polls. */
  swept: Promise<SweepReport>;
  /** Resolves when all its Temporal workers have stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/** The config with the mini-swe-agent command this worker found (or installed) filled in. */
async function withPythonAgents(config: DroverConfig, env: NodeJS.ProcessEnv): Promise<DroverConfig> {
  const mini = await resolveMiniCommand(config, env, (line) => process.stderr.write(`drover worker: ${line}\n`));
  if (!mini) return config;
  return { ...config, agents: { ...config.agents, 'mini-swe-agent': { ...config.agents['mini-swe-agent'], command: mini } } };
}

export async function startWorker(config: DroverConfig, env: NodeJS.ProcessEnv = process.env): Promise<DroverWorker> {
  installRuntime();
  const unlock = lockDataDir(config.dataDir);
  try {
    return await startLocked(config, env, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

async function startLocked(given: DroverConfig, env: NodeJS.ProcessEnv, unlock: () => void): Promise<DroverWorker> {
  const config = await withPythonAgents(given, env);
  const paths = dataPaths(config.dataDir);
  const workerId = resolveWorkerId(config.workerId, paths.workerIdFile());
  const hostQueue = hostQueueFor(config.taskQueue, workerId);
  // Credentials come from the worker's environment and env files, never from a job.
  const baseEnv = {
    ...Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    ...readEnvFiles(config.worker.envFiles),
  };
  const runtime = createHostRuntime();
  // Before connecting: a worker that cannot run what it was told to offer should not start at all.
  const backends = await checkBackends(config, runtime, baseEnv);
  const docker = await setUpDocker(config, workerId, paths, (line) => process.stderr.write(`drover worker: ${line}\n`));
  // The worker's local git starts in a small process of its own: a fork from this one stops the event loop
  // for 8-12 ms (src/git/spawner-child.ts).
  const spawner = createSpawner();
  const git = gitFor(config, spawner);
  // Listed before polling starts, so nothing listed is being made by a job of this run.
  const leftovers = await findLeftovers(paths, git, docker.pool !== undefined);
  await stopOrphanFetches(paths, runtime);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: config.temporal.address });
  } catch (err) {
    throw new AppError('ServerUnavailable', `cannot reach Temporal at ${config.temporal.address}: ${(err as Error).message}`);
  }
  const spares = createSpares({
    dir: paths.spares(),
    git,
    removeTree: (path) => spawner.removeTree(path),
    perRepo: config.worker.spareCheckouts,
    maxRepos: 4,
    log: (line) => process.stderr.write(`drover worker: ${line}\n`),
  });
  const activities = createActivities({
    paths,
    workerId,
    hostQueue,
    runtime,
    git,
    policy: policyFrom(config),
    baseEnv,
    maxConcurrentAgents: config.worker.maxConcurrentAgents,
    agents: config.agents,
    containerAgents: given.agents,
    ...(docker.pool ? { docker: docker.pool } : {}),
    defaultRuntime: config.worker.runtime,
    defaults: config.defaults,
    cache: createDepCache({ dir: paths.caches(), maxBytes: parseSize(config.cache.maxSize) }),
    spares,
    removeTree: (...paths) => spawner.removeTree(...paths),
  });
  const common = {
    connection,
    namespace: config.temporal.namespace,
    shutdownGraceTime: config.worker.shutdownGrace,
    // Cancellation reaches an activity only through a heartbeat response; the SDK's default throttle
    // (0.8 x heartbeat timeout) would delay a cancel by up to 24 s.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
  };
  const shared = await Worker.create({
    ...common,
    taskQueue: config.taskQueue,
    identity: `${workerId}/shared`,
    workflowBundle: await workflowBundle(),
    // checkJobInput runs as a local activity of the workflow's first task.
    activities: { prepareWorkspace: activities.prepareWorkspace, checkJobInput: activities.checkJobInput },
    maxConcurrentActivityTaskExecutions: 4,
  });
  // Every task on the host queue belongs to a job whose worktree is here: take them all at once (agents are
  // bounded inside runAgent), so a long queue never looks like a dead worker.
  const host = await Worker.create({
    ...common,
    taskQueue: hostQueue,
    identity: `${workerId}/host`,
    activities,
    maxConcurrentActivityTaskExecutions: 1000,
  });
  // A job's first activity waits on its backend's queue until a worker that has the backend takes it.
  const perBackend = await Promise.all(
    backends
      .filter((b) => b.available)
      .map((b) =>
        Worker.create({
          ...common,
          taskQueue: backendQueueFor(config.taskQueue, b.kind),
          identity: `${workerId}/${b.kind}`,
          activities: { prepareWorkspace: activities.prepareWorkspace },
          maxConcurrentActivityTaskExecutions: 4,
        }),
      ),
  );
  const dockerJobs = docker.pool
    ? [
        await Worker.create({
          ...common,
          taskQueue: dockerQueueFor(config.taskQueue),
          identity: `${workerId}/docker`,
          activities: { prepareWorkspace: activities.prepareWorkspace },
          maxConcurrentActivityTaskExecutions: 4,
        }),
      ]
    : [];
  const workers = [shared, host, ...perBackend, ...dockerJobs];
  const done = Promise.all(workers.map((w) => w.run()))
    .then(
      () => connection.close(),
      async (err) => {
        await connection.close().catch(() => undefined);
        throw err;
      },
    )
    .finally(unlock);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const swept = sweep(leftovers, whereaboutsFrom(client, workerId), { git, runtime }).then((report) => {
    if (report.swept.length)
      process.stderr.write(`drover worker: removed what ${report.swept.length} finished or moved job(s) left here\n`);
    return report;
  });
  const shutdown = async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await done.catch(() => undefined);
    await docker.pool?.shutdown();
    await spares.close();
    spawner.close();
  };
  return { workerId, hostQueue, backends, docker, done, swept, shutdown };
}
