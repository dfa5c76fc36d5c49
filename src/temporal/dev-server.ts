import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { AppError } from '../shared/errors.js';
import { SEARCH_ATTRIBUTE_NAMES } from '../shared/search-attributes.js';
import { ensureNamespaceSetup } from './namespace-setup.js';

/**
 * History loads the tasks it hands to matching (workflow and activity tasks, timers, visibility) at most 20
 * times a second per queue by default: past a small burst, every dispatch waited about 45 ms, and a job that
 * took 230 ms took 450 (a workflow of four no-op activities: 100 ms against 450; bench/README.md). One dev
 * server on one machine has no database to protect from that load.
 */
export const LOW_LATENCY = [
  'history.transferProcessorMaxPollRPS=1000',
  'history.timerProcessorMaxPollRPS=1000',
  'history.visibilityProcessorMaxPollRPS=1000',
];

export interface DevServerOptions {
  bin: string;
  dbFile: string;
  port?: number;
  /** Omit for a headless server. */
  uiPort?: number;
  namespace?: string;
  logFile?: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  child: ChildProcess;
  stop(): Promise<void>;
}

const PORT_TRIES = 3;

/**
 * Starts `temporal server start-dev` with state in a db file, then registers Drover's namespace setup. A port
 * it picked itself may be taken by someone else before the server binds it (it is free only when asked): then
 * it tries another one.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, opts.port ?? (await freePort()));
    } catch (err) {
      const retry = opts.port === undefined && attempt < PORT_TRIES && err instanceof AppError && err.details?.exitedEarly === true;
      if (!retry) throw err;
    }
  }
}

async function startOnce(opts: DevServerOptions, port: number): Promise<DevServer> {
  const namespace = opts.namespace ?? 'default';
  mkdirSync(dirname(opts.dbFile), { recursive: true });
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', opts.dbFile];
  args.push('--log-level', 'warn', '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');
  for (const setting of LOW_LATENCY) args.push('--dynamic-config-value', setting);
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (!existsSync(opts.dbFile)) {
    for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  }
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(opts.bin, args, { stdio: ['ignore', out, out] });
  const address = `127.0.0.1:${port}`;

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new AppError(
        'ServerUnavailable',
        `temporal dev server exited with code ${child.exitCode}${opts.logFile ? `; see ${opts.logFile}` : ''}`,
        {
          details: { exitedEarly: true },
        },
      );
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await ensureNamespaceSetup(connection, namespace);
      } finally {
        await connection.close();
      }
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new AppError('ServerUnavailable', `temporal dev server did not start within the time limit: ${(err as Error).message}`);
      }
      await delay(250);
    }
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGINT');
    });
  return { address, uiUrl: opts.uiPort ? `http://localhost:${opts.uiPort}` : undefined, child, stop };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
