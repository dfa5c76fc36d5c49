import { rmSync, writeFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import type { DroverConfig } from '../../config/schema.js';
import { dataPaths } from '../../config/paths.js';
import { ensureTemporalCli } from '../../temporal/cli-binary.js';
import { startDevServer, type DevServer } from '../../temporal/dev-server.js';
import { ensureNamespaceSetup } from '../../temporal/namespace-setup.js';
import { startWorker, type DroverWorker } from '../../worker.js';
import { note } from '../output.js';
import { AppError } from '../../shared/errors.js';

export interface Embedded {
  config: DroverConfig;
  server: DevServer | undefined;
  /** Undefined when a running `drover dev` on the same data dir already has one. */
  worker: DroverWorker | undefined;
  stop(): Promise<void>;
}

/**
 * The embedded default: a dev server with UI (state in the data dir, so jobs survive restarts) and a worker.
 * If a server already answers on the dev port, it is used instead of starting a second one.
 */
export async function startEmbedded(config: DroverConfig, opts: { headless?: boolean } = {}): Promise<Embedded> {
  const address = `127.0.0.1:${config.dev.port}`;
  let server: DevServer | undefined;
  if (await answers(address)) {
    note(`drover: using the Temporal server already running at ${address}`);
    const c = await Connection.connect({ address });
    await ensureNamespaceSetup(c, config.temporal.namespace).finally(() => c.close());
  } else {
    const bin = await ensureTemporalCli();
    const paths = dataPaths(config.dataDir);
    note(`drover: starting the Temporal dev server (state in ${paths.temporalDb()})`);
    server = await startDevServer({
      bin,
      dbFile: paths.temporalDb(),
      port: config.dev.port,
      ...(opts.headless ? {} : { uiPort: config.dev.uiPort }),
      namespace: config.temporal.namespace,
      logFile: `${paths.temporalDb()}.log`,
    });
  }
  const uiUrl = config.ui.url ?? (opts.headless ? undefined : `http://localhost:${config.dev.uiPort}`);
  const endpointFile = dataPaths(config.dataDir).devEndpoint();
  if (server && uiUrl) writeFileSync(endpointFile, JSON.stringify({ address, uiUrl }));
  const resolved: DroverConfig = { ...config, temporal: { ...config.temporal, address }, ui: { ...config.ui, url: uiUrl } };
  let worker: DroverWorker | undefined;
  try {
    worker = await startWorker(resolved);
  } catch (err) {
    if (!(server === undefined && err instanceof AppError && /in use by the worker/.test(err.message))) throw err;
    note(`drover: using the worker already running on ${config.dataDir}`);
  }
  return {
    config: resolved,
    server,
    worker,
    async stop() {
      await worker?.shutdown();
      if (server) rmSync(endpointFile, { force: true });
      await server?.stop();
    },
  };
}

async function answers(address: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: 1_000 });
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => resolve(sig);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}
