import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chownTree } from '../runtimes/docker/pool.js';
import type { Runtime } from '../runtimes/runtime.js';
import { AppError } from '../shared/errors.js';
import type { RuntimeSpec } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { openJobLog } from './job-log.js';

/** Where a job's processes run, and the environment they get there. */
export interface Placement {
  runtime: Runtime;
  env(extra?: Record<string, string>): Record<string, string>;
}

/** The runtime a job gets on this worker: the one it names, else the worker's default. */
export function resolveRuntime(deps: ActivityContext, spec: RuntimeSpec | undefined): RuntimeSpec {
  return spec ?? (deps.defaultRuntime === 'docker' ? { kind: 'docker', env: [] } : { kind: 'host' });
}

/**
 * On the host a process gets the worker's whole environment. In a container it gets only the variables the
 * job names (their values from the worker's environment and env files): the container is the boundary.
 */
export async function placementFor(deps: ActivityContext, jobId: string, worktree: string, spec: RuntimeSpec | undefined): Promise<Placement> {
  if (!spec || spec.kind === 'host') return { runtime: deps.runtime, env: (extra = {}) => ({ ...deps.baseEnv, ...extra }) };
  const pool = requireDocker(deps);
  const { runtime, made } = await pool.runtimeFor(jobId, worktree, spec.image);
  if (made) openJobLog(deps.paths.jobLog(jobId))({ source: 'drover', text: `made container ${made.slice(0, 12)} for the job: its container was gone` });
  const named = Object.fromEntries(spec.env.flatMap((name) => (deps.baseEnv[name] === undefined ? [] : [[name, deps.baseEnv[name]!]])));
  // The agent's home lives beside the worktree in the slot directory, not in the container: CLI sessions
  // survive a container that is replaced (killed, or a worker restart), so a retry can resume them.
  const home = join(dirname(worktree), '.home');
  if (!existsSync(home)) {
    mkdirSync(home, { recursive: true });
    chownTree(home);
  }
  return { runtime, env: (extra = {}) => ({ ...named, HOME: home, ...extra }) };
}

export function requireDocker(deps: ActivityContext) {
  if (!deps.docker) {
    throw new AppError('DockerUnavailable', `worker ${deps.workerId} has no Docker engine; the job asks for runtime docker`);
  }
  return deps.docker;
}
