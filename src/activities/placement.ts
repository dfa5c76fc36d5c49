import { basename, dirname, join } from 'node:path';
import type { Runtime } from '../runtimes/runtime.js';
import { checkRuntimeEnv } from '../config/policy.js';
import { AppError } from '../shared/errors.js';
import type { RuntimeSpec } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';

/** Where a job's processes run, the environment they get there, and where their run files are. */
export interface Placement {
  runtime: Runtime;
  env(extra?: Record<string, string>): Record<string, string>;
  /** The run directory (prompt, answer, feedback, ask/question.json), at the same path for the worker and the agent. */
  runDir: string;
}

/** The runtime a job gets on this worker: the one it names, else the worker's default. */
export function resolveRuntime(deps: ActivityContext, spec: RuntimeSpec | undefined): RuntimeSpec {
  return spec ?? (deps.defaultRuntime === 'docker' ? { kind: 'docker', env: [] } : { kind: 'host' });
}

/** A worktree in a container's slot directory (`docker-slots/<slot>/<job>`), as opposed to `worktrees/<job>`. */
export const inSlot = (deps: Pick<ActivityContext, 'paths'>, worktree: string): boolean =>
  dirname(dirname(worktree)) === deps.paths.dockerSlots() && /^[0-9a-f]{12}$/.test(basename(dirname(worktree)));

/**
 * A container job's run files sit in its slot directory, the one host directory its container sees (beside
 * the worktree, in a directory the agent cannot write); a host job's under the job's directory.
 */
export function runDirFor(deps: Pick<ActivityContext, 'paths'>, jobId: string, worktree: string): string {
  return inSlot(deps, worktree) ? join(dirname(worktree), '.run') : deps.paths.jobRunDir(jobId);
}

/**
 * On the host a process gets the worker's whole environment. In a container it gets only the variables the
 * job names (their values from the worker's environment and env files): the container is the boundary.
 */
export async function placementFor(
  deps: ActivityContext,
  jobId: string,
  worktree: string,
  spec: RuntimeSpec | undefined,
): Promise<Placement> {
  const runDir = runDirFor(deps, jobId, worktree);
  if (!spec || spec.kind === 'host') return { runtime: deps.runtime, env: (extra = {}) => ({ ...deps.baseEnv, ...extra }), runDir };
  checkRuntimeEnv(spec.env, deps.policy);
  const pool = requireDocker(deps);
  const { runtime, made } = await pool.runtimeFor(jobId, worktree, spec.image);
  if (made) deps.jobLog(jobId)({ source: 'drover', text: `made container ${made.slice(0, 12)} for the job: its container was gone` });
  const named = Object.fromEntries(spec.env.flatMap((name) => (deps.baseEnv[name] === undefined ? [] : [[name, deps.baseEnv[name]!]])));
  // The agent's home lives beside the worktree in the slot directory, not in the container: CLI sessions
  // survive a container that is replaced (killed, or a worker restart), so a retry can resume them.
  const home = join(dirname(worktree), '.home');
  return { runtime, env: (extra = {}) => ({ ...named, HOME: home, ...extra }), runDir };
}

export function requireDocker(deps: ActivityContext) {
  if (!deps.docker) {
    throw new AppError('DockerUnavailable', `worker ${deps.workerId} has no Docker engine; the job asks for runtime docker`);
  }
  return deps.docker;
}
