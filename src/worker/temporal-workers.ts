/**
 * The Temporal workers of one Drover worker process: the shared job queue (workflows), this host's private
 * queue (everything that touches its worktrees), and one queue per backend it has and for Docker jobs
 * (where a job's first activity lands). Landing workers take new jobs; a draining worker stops them first and
 * keeps the others until the jobs it holds are done.
 */
import { hostname } from 'node:os';
import { type NativeConnection, Worker } from '@temporalio/worker';
import type { createActivities } from '../activities/index.js';
import type { DroverConfig } from '../config/schema.js';
import { DURATION_PATTERN, durationMs } from '../shared/duration.js';
import { backendQueueFor, dockerQueueFor, notifyQueueFor } from '../shared/ids.js';
import { workerIdentity } from '../shared/worker-identity.js';
import type { HandBack } from './hand-back.js';
import type { WorkerHost } from './host.js';
import { workflowBundle } from './workflow-bundle.js';

type Activities = ReturnType<typeof createActivities>;

export interface TemporalWorkers {
  /** Where new jobs land: stopped first when the worker drains. */
  landing: Worker[];
  /** Workflows and this host's queue: kept until the jobs held here are done. */
  staying: Worker[];
}

const commonOptions = (connection: NativeConnection, config: DroverConfig) => ({
  connection,
  namespace: config.temporal.namespace,
  shutdownGraceTime: config.worker.shutdownGrace,
  // An activity that ignores its cancel (a process deaf to SIGTERM) must not hold the worker's exit forever.
  ...(DURATION_PATTERN.test(config.worker.shutdownGrace) ? { shutdownForceTime: durationMs(config.worker.shutdownGrace) + 60_000 } : {}),
  // Cancellation reaches an activity only through a heartbeat response; the SDK's default throttle
  // (0.8 x heartbeat timeout) would delay a cancel by up to 24 s.
  maxHeartbeatThrottleInterval: '1s',
  defaultHeartbeatThrottleInterval: '1s',
});

/**
 * A queue where jobs' first activity (prepareWorkspace) waits for a worker that can take the job, and where
 * a merge queue's merge lands (it then works on that worker's host queue).
 */
function landingWorker(common: ReturnType<typeof commonOptions>, taskQueue: string, identity: string, activities: Activities) {
  return Worker.create({
    ...common,
    taskQueue,
    identity,
    activities: {
      prepareWorkspace: activities.prepareWorkspace,
      mergeForIntegration: activities.mergeForIntegration,
      // A best-of-N job's winner, put on the job's branch (src/activities/attempts.ts).
      publishWinner: activities.publishWinner,
    },
    maxConcurrentActivityTaskExecutions: 4,
  });
}

export async function createTemporalWorkers(
  connection: NativeConnection,
  host: WorkerHost,
  activities: Activities,
  handBack: HandBack,
): Promise<TemporalWorkers> {
  const { config, workerId } = host;
  const common = commonOptions(connection, config);
  const workflows = await Worker.create({
    ...common,
    taskQueue: config.taskQueue,
    identity: workerIdentity(workerId, 'shared'),
    workflowBundle: await workflowBundle(),
    // checkJobInput runs as a local activity of the workflow's first task; activity tasks on this queue are
    // the landing worker's below, so a draining worker can stop taking them and still run workflows.
    activities: { checkJobInput: activities.checkJobInput, enqueueIntegration: activities.enqueueIntegration },
    enableNonLocalActivities: false,
  });
  // Every task on the host queue belongs to a job whose worktree is here: take them all at once (agents are
  // bounded inside runAgent), so a long queue never looks like a dead worker.
  const onHost = await Worker.create({
    ...common,
    taskQueue: host.hostQueue,
    identity: workerIdentity(workerId, 'host', { host: hostname(), pid: process.pid, runtime: runtimeTrait(host) }),
    activities,
    maxConcurrentActivityTaskExecutions: 1000,
    interceptors: { activity: [handBack.interceptor] },
  });
  const notify = await Worker.create({
    ...common,
    taskQueue: notifyQueueFor(config.taskQueue),
    identity: workerIdentity(workerId, 'notify'),
    activities: { deliverNotification: activities.deliverNotification },
    maxConcurrentActivityTaskExecutions: 20,
  });
  const landing = await Promise.all([
    // Histories from before backend queues place the job on the job queue itself.
    landingWorker(common, config.taskQueue, workerIdentity(workerId, 'landing'), activities),
    // A job's first activity waits on its backend's queue until a worker that has the backend takes it.
    ...host.backends
      .filter((b) => b.available)
      .map((b) => landingWorker(common, backendQueueFor(config.taskQueue, b.kind), workerIdentity(workerId, b.kind), activities)),
    ...(host.docker.pool ? [landingWorker(common, dockerQueueFor(config.taskQueue), workerIdentity(workerId, 'docker'), activities)] : []),
  ]);
  return { landing, staying: [workflows, onHost, notify] };
}

const runtimeTrait = (host: WorkerHost) => (host.docker.pool ? `docker:${host.config.docker.poolSize}` : 'host');

/** Runs them all; resolves when all have stopped, with the connection closed and the data dir unlocked. */
export function runAll(workers: Worker[], connection: NativeConnection, unlock: () => void): Promise<void> {
  return Promise.all(workers.map((w) => w.run()))
    .then(
      () => connection.close(),
      async (err) => {
        await connection.close().catch(() => undefined);
        throw err;
      },
    )
    .finally(unlock);
}
