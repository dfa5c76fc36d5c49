import type { DataPaths } from '../config/paths.js';
import type { DroverConfig } from '../config/schema.js';
import { connectEngine } from '../runtimes/docker/engine.js';
import { defaultImageTag } from '../runtimes/docker/image.js';
import { DockerPool } from '../runtimes/docker/pool.js';
import { AppError } from '../shared/errors.js';
import { setWarmContainers } from './metrics.js';

export interface DockerSetup {
  pool?: DockerPool;
  /** Why there is no pool, when there is none. */
  problem?: string;
  removedLeftovers?: number;
}

/**
 * Sets up the docker runtime: the engine answers, the image is there, leftovers of a crash are removed,
 * warming starts. A worker told to use Docker (worker.docker, or runtime docker by default) refuses to start
 * without it; otherwise it runs without and says why.
 */
export async function setUpDocker(
  config: DroverConfig,
  workerId: string,
  paths: DataPaths,
  log: (line: string) => void,
): Promise<DockerSetup> {
  if (config.worker.docker === false) return { problem: 'turned off (worker.docker: false)' };
  const required = config.worker.docker === true || config.worker.runtime === 'docker';
  if (process.getuid?.() !== 0) {
    // Only root can hand a worktree to the container's user and keep the slot around it the worker's own.
    const problem = "the docker runtime needs a worker running as root (it hands each worktree to the container's user)";
    if (required) throw new AppError('DockerUnavailable', problem);
    return { problem };
  }
  const pool = new DockerPool(connectEngine(config.docker.socket), {
    workerId,
    slotsDir: paths.dockerSlots(),
    defaultImage: config.docker.image ?? defaultImageTag(),
    config: config.docker,
    log,
    onIdleChange: setWarmContainers,
  });
  try {
    const { removed } = await pool.start();
    return { pool, removedLeftovers: removed };
  } catch (err) {
    if (required || !(err instanceof AppError)) throw err;
    return { problem: err.message };
  }
}
