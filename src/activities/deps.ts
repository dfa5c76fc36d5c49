import type { DataPaths } from '../config/paths.js';
import type { JobPolicy } from '../config/policy.js';
import type { AgentsConfig } from '../config/schema.js';
import type { Git } from '../git/git.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { DockerPool } from '../runtimes/docker/pool.js';
import type { JobDefaults } from '../shared/schemas.js';
import type { DepCache } from './dep-cache.js';
import type { DailySpend } from './daily-spend.js';
import type { IntegrationQueue } from './integrate.js';
import type { Spares } from './spares.js';
import type { JobLog } from './job-log.js';
import type { LiveRuns } from './live-runs.js';
import type { NotifyDeps } from './notify-targets.js';
import type { Redact } from './redact.js';
import type { SharedFetch } from './shared-fetch.js';

export interface ActivityDeps {
  paths: DataPaths;
  workerId: string;
  /** This worker's private queue: where every activity after prepareWorkspace is sent. */
  hostQueue: string;
  /** The host runtime. */
  runtime: Runtime;
  /** Git, bounded by the worker's timeouts and protocols. */
  git: Git;
  /** What this worker lets a job name: repositories, protocols, container variables. */
  policy: JobPolicy;
  /** The worker's environment, passed on to agents (credentials live here, never in the job). */
  baseEnv: Record<string, string>;
  /** The worker's own secrets that agents never get (its Temporal API key), redacted all the same. */
  withheld?: Record<string, string>;
  /** How many agents may run at once on this worker. */
  maxConcurrentAgents: number;
  /** The worker's settings for each backend. */
  agents: AgentsConfig;
  /** The same for agents in a container: commands as configured, not the host paths this worker found. */
  containerAgents: AgentsConfig;
  /** Containers for jobs with runtime docker; absent when this worker has no Docker engine. */
  docker?: DockerPool;
  /** Where jobs that name no runtime run. */
  defaultRuntime: 'host' | 'docker';
  /** Setup, validation, teardown and caches for jobs whose job and repository name none. */
  defaults: JobDefaults;
  /** Dependency caches in the data dir. */
  cache: DepCache;
  /** Checkouts made ahead for repositories whose checkout is slow. */
  spares: Spares;
  /** Removes a directory tree (worktrees hold thousands of files): outside the worker's heap when it can. */
  removeTree: (...paths: string[]) => Promise<void>;
  /** Signal-with-start of integration workflows, for the job's workflow (a local activity). */
  integrations?: IntegrationQueue;
  /** Where job events go, secrets resolved (src/activities/notify-targets.ts); absent: nowhere. */
  notify?: NotifyDeps;
  /** This worker's spend today against its daily ceiling; absent: no ceiling. */
  dailySpend?: DailySpend;
}

/** What the activity factories share: deps plus per-worker helpers. */
export interface ActivityContext extends ActivityDeps {
  redact: Redact;
  /** The job's log on disk, redacted. */
  jobLog: (jobId: string) => JobLog;
  /** One fetch at a time into a mirror, shared by the jobs waiting for it; a waiter gives up when its signal aborts. */
  fetchMirror: SharedFetch;
  /** The agents running on this worker, for steering messages. */
  liveRuns: LiveRuns;
}
