/**
 * What a worker learns and makes on its own host before it connects: its id and queue, the environment its
 * agents get, the backends and Docker it can offer, its git, and what earlier runs left behind.
 */
import { notifySecretNames } from '../activities/notify-targets.js';
import { readEnvFiles } from '../config/env-file.js';
import { type DataPaths, dataPaths } from '../config/paths.js';
import type { DroverConfig } from '../config/schema.js';
import { gitFor } from '../git/git-for-config.js';
import type { Git } from '../git/git.js';
import { createSpawner, type Spawner } from '../git/spawner.js';
import { createHostRuntime } from '../runtimes/host-runtime.js';
import type { Runtime } from '../runtimes/runtime.js';
import { hostQueueFor } from '../shared/ids.js';
import { type BackendCheck, checkBackends } from './backends.js';
import { type DockerSetup, setUpDocker } from './docker.js';
import { resolveWorkerId } from './id.js';
import { resolveMiniCommand } from './python-agents.js';
import { findLeftovers, stopOrphanFetches } from './sweep.js';

export const say = (line: string) => process.stderr.write(`drover worker: ${line}\n`);

export interface WorkerHost {
  /** The config with what this worker found filled in (the mini-swe-agent command). */
  config: DroverConfig;
  paths: DataPaths;
  workerId: string;
  hostQueue: string;
  baseEnv: Record<string, string>;
  withheld: Record<string, string>;
  runtime: Runtime;
  backends: BackendCheck[];
  docker: DockerSetup;
  spawner: Spawner;
  git: Git;
  /** What earlier runs left here, by job, listed before this run's jobs start. */
  leftovers: Awaited<ReturnType<typeof findLeftovers>>;
}

/** The config with the mini-swe-agent command this worker found (or installed) filled in. */
async function withPythonAgents(config: DroverConfig, env: NodeJS.ProcessEnv): Promise<DroverConfig> {
  const mini = await resolveMiniCommand(config, env, say);
  if (!mini) return config;
  return { ...config, agents: { ...config.agents, 'mini-swe-agent': { ...config.agents['mini-swe-agent'], command: mini } } };
}

/**
 * Credentials come from the worker's environment and env files, never from a job. The worker's own way into
 * Temporal (TEMPORAL_API_KEY, TLS settings) is not passed on: with it an agent could signal or end any job.
 * On the host runtime an agent runs as the worker's user and could still read the worker's own files and
 * process; only containers keep it out entirely.
 */
export function baseEnvFrom(env: NodeJS.ProcessEnv, config: DroverConfig): Record<string, string> {
  const all = { ...definedOnly(env), ...readEnvFiles(config.worker.envFiles) };
  const notify = notifySecretNames(config.notify);
  return Object.fromEntries(Object.entries(all).filter(([name]) => !WORKER_ONLY.test(name) && !notify.includes(name)));
}
const WORKER_ONLY = /^TEMPORAL_/;
const definedOnly = (env: NodeJS.ProcessEnv) =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

/** What agents never get but the redactor must still know (a key given in the config file, not the env). */
export function withheldSecrets(env: NodeJS.ProcessEnv, config: DroverConfig): Record<string, string> {
  const all = { ...definedOnly(env), ...readEnvFiles(config.worker.envFiles) };
  // The notify secrets' variables too: an agent holding one could forge the worker's notifications.
  const notify = notifySecretNames(config.notify);
  const withheld = Object.fromEntries(Object.entries(all).filter(([name]) => WORKER_ONLY.test(name) || notify.includes(name)));
  return config.temporal.apiKey ? { ...withheld, TEMPORAL_API_KEY: config.temporal.apiKey } : withheld;
}

export async function prepareHost(given: DroverConfig, env: NodeJS.ProcessEnv): Promise<WorkerHost> {
  const config = await withPythonAgents(given, env);
  const paths = dataPaths(config.dataDir);
  const workerId = resolveWorkerId(config.workerId, paths.workerIdFile());
  const baseEnv = baseEnvFrom(env, config);
  const runtime = createHostRuntime();
  // Before connecting: a worker that cannot run what it was told to offer should not start at all.
  const backends = await checkBackends(config, runtime, baseEnv);
  const docker = await setUpDocker(config, workerId, paths, say);
  // The worker's local git starts in a small process of its own: a fork from this one stops the event loop
  // for 8-12 ms (src/git/spawner-child.ts).
  const spawner = createSpawner();
  const git = gitFor(config, spawner);
  try {
    // Listed before polling starts, so nothing listed is being made by a job of this run.
    const leftovers = await findLeftovers(paths, git, docker.pool !== undefined);
    await stopOrphanFetches(paths, runtime);
    const hostQueue = hostQueueFor(config.taskQueue, workerId);
    const withheld = withheldSecrets(env, config);
    return { config, paths, workerId, hostQueue, baseEnv, withheld, runtime, backends, docker, spawner, git, leftovers };
  } catch (err) {
    await releaseHost({ docker, spawner });
    throw err;
  }
}

/** What a worker that does not get to poll lets go of: its warm containers and its spawner process. */
export async function releaseHost(host: Pick<WorkerHost, 'docker' | 'spawner'>): Promise<void> {
  await host.docker.pool?.shutdown().catch(() => undefined);
  host.spawner.close();
}
