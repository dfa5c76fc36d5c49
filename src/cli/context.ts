/**
 * What commands share. The config loader and the client are imported when a command runs, not when the CLI
 * starts: `drover --help` must not pay for zod, YAML and the Temporal client (hundreds of ms).
 */
import type { Command } from 'commander';
import type { DroverClient } from '../client.js';
import type { DroverConfig } from '../config/schema.js';

export interface GlobalOptions {
  config?: string;
  address?: string;
  namespace?: string;
  taskQueue?: string;
  dataDir?: string;
}

/** Config from the file, the environment and the global flags, validated once. */
export async function configFrom(cmd: Command): Promise<DroverConfig> {
  const { loadConfig } = await import('../config/load.js');
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
  const config = await configFrom(cmd);
  const { DroverClient } = await import('../client.js');
  const client = await DroverClient.connect(config);
  try {
    return await fn(client, config);
  } finally {
    await client.close();
  }
}
