import type { DataPaths } from '../config/paths.js';
import type { Runtime } from '../runtimes/runtime.js';

export interface ActivityDeps {
  paths: DataPaths;
  workerId: string;
  /** This worker's private queue: where every activity after prepareWorkspace is sent. */
  hostQueue: string;
  runtime: Runtime;
  /** The worker's environment, passed on to agents (credentials live here, never in the job). */
  baseEnv: Record<string, string>;
}
