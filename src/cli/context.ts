import type { Command } from 'commander';
import { DroverClient } from '../client.js';
import { loadConfig } from '../config/load.js';
import type { DroverConfig } from '../config/schema.js';

export interface GlobalOptions {
  config?: string;
  address?: string;
  namespace?: string;
  taskQueue?: string;
  dataDir?: string;
}

/** Config from the file, the environment and the global flags, validated once. */
export function configFrom(cmd: Command): DroverConfig {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({
    ...(g.config ? { file: g.config } : {}),
    overrides: {
      ...(g.address || g.namespace
        ? { temporal: { ...(g.address ? { address: g.address } : {}), ...(g.namespace ? { namespace: g.namespace } : {}) } }
        : {}),
      ...(g.taskQueue ? { taskQueue: g.taskQueue } : {}),
      ...(g.dataDir ? { dataDir: g.dataDir } : {}),
    },
  });
}

export async function withClient<T>(cmd: Command, fn: (client: DroverClient, config: DroverConfig) => Promise<T>): Promise<T> {
  const config = configFrom(cmd);
  const client = await DroverClient.connect(config);
  try {
    return await fn(client, config);
  } finally {
    await client.close();
  }
}
