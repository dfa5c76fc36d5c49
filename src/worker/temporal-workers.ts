/**
 * The Temporal workers of one Drover worker process: the shared job queue (workflows), this host's private
 * queue (everything that touches its worktrees), and one queue per backend it has and for Docker jobs
 * (where a job's first activity lands).
 */
import { type NativeConnection, Worker } from '@temporalio/worker';
import type { createActivities } from '../activities/index.js';
import type { DroverConfig } from '../config/schema.js';
import { backendQueueFor, dockerQueueFor } from '../shared/ids.js';
import type { WorkerHost } from './host.js';
import { workflowBundle } from './workflow-bundle.js';

type Activities = ReturnType<typeof createActivities>;

const commonOptions = (connection: NativeConnection, config: DroverConfig) => ({
  connection,
  namespace: config.temporal.namespace,
  shutdownGraceTime: config.worker.shutdownGrace,
  // Cancellation reaches an activity only through a heartbeat response; the SDK's default throttle
  // (0.8 x heartbeat timeout) would delay a cancel by up to 24 s.
  maxHeartbeatThrottleInterval: '1s',
  defaultHeartbeatThrottleInterval: '1s',
});

/** A queue where jobs' first activity (prepareWorkspace) waits for a worker that can take the job. */
function landingWorker(common: ReturnType<typeof commonOptions>, taskQueue: string, identity: string, activities: Activities) {
  return Worker.create({
    ...common,
    taskQueue,
    identity,
    activities: { prepareWorkspace: activities.prepareWorkspace },
    maxConcurrentActivityTaskExecutions: 4,
  });
}

export async function createTemporalWorkers(connection: NativeConnection, host: WorkerHost, activities: Activities): Promise<Worker[]> {
  const { config, workerId } = host;
  const common = commonOptions(connection, config);
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
  const onHost = await Worker.create({
    ...common,
    taskQueue: host.hostQueue,
    identity: `${workerId}/host`,
    activities,
    maxConcurrentActivityTaskExecutions: 1000,
  });
  // A job's first activity waits on its backend's queue until a worker that has the backend takes it.
  const perBackend = await Promise.all(
    host.backends
      .filter((b) => b.available)
      .map((b) => landingWorker(common, backendQueueFor(config.taskQueue, b.kind), `${workerId}/${b.kind}`, activities)),
  );
  const dockerJobs = host.docker.pool
    ? [await landingWorker(common, dockerQueueFor(config.taskQueue), `${workerId}/docker`, activities)]
    : [];
  return [shared, onHost, ...perBackend, ...dockerJobs];
}

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
