/**
 * Drover's worker: one process, several Temporal workers: the shared job queue (workflows), this host's private
 * queue (everything that touches its worktrees) and one queue per backend it has (where jobs land).
 */
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createDepCache, parseSize } from '../activities/dep-cache.js';
import { createActivities } from '../activities/index.js';
import { createDailySpend } from '../activities/daily-spend.js';
import { resolveNotify } from '../activities/notify-targets.js';
import type { IntegrationQueue } from '../activities/integrate.js';
import { enqueueIntegration } from '../temporal/integration-queue.js';
import { createSpares } from '../activities/spares.js';
import { policyFrom } from '../config/policy.js';
import type { DroverConfig, TemporalConfig } from '../config/schema.js';
import { connectionSettings, unreachable } from '../temporal/connection.js';
import type { BackendCheck } from './backends.js';
import { lockDataDir } from './data-dir-lock.js';
import { prometheusExporter } from './metrics.js';
import type { DockerSetup } from './docker.js';
import { prepareHost, releaseHost, say, type WorkerHost } from './host.js';
import { placementFrom, type SweepReport, sweep } from './sweep.js';
import { DURATION_PATTERN, durationMs } from '../shared/duration.js';
import { createTemporalWorkers, runAll } from './temporal-workers.js';
import { type DrainReport, drain, stopWorkers } from './drain.js';
import { createHandBack, type HandBack } from './hand-back.js';
import { ensureNamespaceSetup, grpcCode, PERMISSION_DENIED } from '../temporal/namespace-setup.js';

type Spares = ReturnType<typeof createSpares>;

export { WORKFLOWS_PATH, workflowBundle } from './workflow-bundle.js';

let runtimeInstalled = false;
/**
 * Quiet SDK logs by default; Runtime.install may run only once per process. With `metrics` (host:port), the
 * SDK's and Drover's metrics are served for Prometheus at http://host:port/metrics.
 */
export function installRuntime(level: 'WARN' | 'INFO' | 'DEBUG' = 'WARN', metrics?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const logger = new DefaultLogger(level, (entry) => {
    // The host queue has no workflows by design; the SDK's warning about it is noise.
    if (entry.message.startsWith('No workflows registered')) return;
    process.stderr.write(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}\n`);
  });
  Runtime.install({ logger, shutdownSignals: [], ...(metrics ? { telemetryOptions: { metrics: prometheusExporter(metrics) } } : {}) });
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
  /** Stops at once: running activities get the shutdown grace, then are cancelled (they retry here on restart). */
  shutdown(): Promise<void>;
  /**
   * Takes no new jobs, waits up to `timeoutMs` for the jobs held here, hands the rest back to other workers,
   * then stops. `stopped` ends the wait early (a second SIGTERM).
   */
  drain(timeoutMs: number, stopped?: AbortSignal): Promise<DrainReport>;
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
  const host = await prepareHost(given, env);
  const handBack = createHandBack(host.workerId);
  const { connection, spares, workers } = await startPolling(host, given, handBack);
  const done = runAll([...workers.landing, ...workers.staying], connection, unlock);
  const client = new Client({ connection, namespace: host.config.temporal.namespace });
  const placement = placementFrom(client, host.workerId);
  const swept = sweep(host.leftovers, async (jobId) => (await placement(jobId)).where, { git: host.git, runtime: host.runtime }).then(
    (report) => {
      if (report.swept.length) say(`removed what ${report.swept.length} finished or moved job(s) left here`);
      return report;
    },
  );
  const shutdown = async () => {
    stopWorkers([...workers.landing, ...workers.staying]);
    await done.catch(() => undefined);
    await host.docker.pool?.shutdown();
    await spares.close();
    host.spawner.close();
  };
  const drainThenStop = async (timeoutMs: number, stopped = new AbortController().signal) => {
    const graceMs = DURATION_PATTERN.test(host.config.worker.shutdownGrace) ? durationMs(host.config.worker.shutdownGrace) : 10_000;
    const report = await drain({ workers, paths: host.paths, placement, handBack, graceMs, say }, timeoutMs, stopped);
    await shutdown();
    return report;
  };
  const { workerId, hostQueue, backends, docker } = host;
  return { workerId, hostQueue, backends, docker, done, swept, shutdown, drain: drainThenStop };
}

/** Connects and creates the Temporal workers; a start that fails lets go of what the host had made. */
async function startPolling(host: WorkerHost, given: DroverConfig, handBack: HandBack) {
  let connection: NativeConnection | undefined;
  let spares: Spares | undefined;
  try {
    connection = await connect(host.config.temporal);
    await registerSearchAttributes(connection, host.config.temporal.namespace);
    spares = sparesFor(host);
    const integrations = integrationQueueFor(new Client({ connection, namespace: host.config.temporal.namespace }), host.config.taskQueue);
    const workers = await createTemporalWorkers(connection, host, activitiesFor(host, given, spares, integrations), handBack);
    return { connection, spares, workers };
  } catch (err) {
    await connection?.close().catch(() => undefined);
    await spares?.close().catch(() => undefined);
    await releaseHost(host);
    throw err;
  }
}

async function connect(temporal: TemporalConfig): Promise<NativeConnection> {
  const settings = connectionSettings(temporal);
  try {
    return await NativeConnection.connect(settings);
  } catch (err) {
    throw unreachable(temporal, err);
  }
}

/** Jobs cannot start without Drover's search attributes; a worker without an operator's rights says how to add them. */
async function registerSearchAttributes(connection: NativeConnection, namespace: string): Promise<void> {
  try {
    const { searchAttributesAdded } = await ensureNamespaceSetup(connection, namespace, {});
    if (searchAttributesAdded.length) say(`registered search attributes ${searchAttributesAdded.join(', ')} on namespace ${namespace}`);
  } catch (err) {
    const why = grpcCode(err) === PERMISSION_DENIED ? 'not allowed' : ((err as Error).message ?? String(err)).split('\n')[0];
    say(
      `cannot check Drover's search attributes on namespace ${namespace} (${why}); run \`drover setup --namespace ${namespace}\` as an operator`,
    );
  }
}

function sparesFor(host: WorkerHost): Spares {
  return createSpares({
    dir: host.paths.spares(),
    git: host.git,
    removeTree: (path) => host.spawner.removeTree(path),
    perRepo: host.config.worker.spareCheckouts,
    maxRepos: 4,
    log: say,
  });
}

/** `given` is the config as written: containers get the agents' commands as configured, not as found here. */
function activitiesFor(host: WorkerHost, given: DroverConfig, spares: Spares, integrations: IntegrationQueue) {
  const { config, spawner } = host;
  return createActivities({
    paths: host.paths,
    workerId: host.workerId,
    hostQueue: host.hostQueue,
    runtime: host.runtime,
    git: host.git,
    policy: policyFrom(config),
    baseEnv: host.baseEnv,
    withheld: host.withheld,
    maxConcurrentAgents: config.worker.maxConcurrentAgents,
    agents: config.agents,
    containerAgents: given.agents,
    ...(host.docker.pool ? { docker: host.docker.pool } : {}),
    defaultRuntime: config.worker.runtime,
    defaults: config.defaults,
    cache: createDepCache({ dir: host.paths.caches(), maxBytes: parseSize(config.cache.maxSize) }),
    spares,
    removeTree: (...paths) => spawner.removeTree(...paths),
    integrations,
    notify: resolveNotify(config, { ...host.baseEnv, ...host.withheld }),
    ...(config.worker.dailyBudget ? { dailySpend: createDailySpend(host.paths.dailySpend(), config.worker.dailyBudget) } : {}),
  });
}

/** Jobs hand their commits to the merge queue on the job queue they run on. */
function integrationQueueFor(client: Client, taskQueue: string): IntegrationQueue {
  return { enqueue: (target, entry) => enqueueIntegration(client, { ...target, taskQueue }, entry) };
}
