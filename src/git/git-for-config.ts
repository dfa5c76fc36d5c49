import type { DroverConfig } from '../config/schema.js';
import { durationMs } from '../shared/duration.js';
import { createGit, type Git } from './git.js';
import type { Spawner } from './spawner.js';

/** Git bounded by the config's timeouts and limited to its protocols. */
export function gitFor(config: Pick<DroverConfig, 'git'>, spawner?: Spawner): Git {
  const t = config.git.timeouts;
  return createGit({
    ...(spawner ? { spawner } : {}),
    timeouts: { clone: durationMs(t.clone), fetch: durationMs(t.fetch), push: durationMs(t.push), local: durationMs(t.local) },
    protocols: config.git.protocols,
  });
}
