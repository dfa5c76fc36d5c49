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
  apiKey?: string;
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsServerName?: string;
  uiUrl?: string;
  taskQueue?: string;
  dataDir?: string;
}

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The connection flags, named as the Temporal CLI names them, over the file and the environment. */
function temporalFlags(g: GlobalOptions) {
  const tls = defined({ enabled: g.tls, cert: g.tlsCert, key: g.tlsKey, ca: g.tlsCa, serverName: g.tlsServerName });
  const temporal = {
    ...defined({ address: g.address, namespace: g.namespace, apiKey: g.apiKey }),
    ...(Object.keys(tls).length ? { tls } : {}),
  };
  return Object.keys(temporal).length ? { temporal } : {};
}

/** Config from the file, the environment and the global flags, validated once. */
export async function configFrom(cmd: Command): Promise<DroverConfig> {
  const { loadConfig } = await import('../config/load.js');
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({
    ...(g.config ? { file: g.config } : {}),
    overrides: {
      ...temporalFlags(g),
      ...(g.uiUrl ? { ui: { url: g.uiUrl } } : {}),
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
