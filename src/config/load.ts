import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { DroverConfig, type DroverConfigInput } from './schema.js';

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: DroverConfigInput;
}

/** Reads the config file (if any), applies environment variables and flags, and validates the result once. */
export function loadConfig({ file, env = process.env, overrides = {} }: LoadOptions = {}): DroverConfig {
  const path = file ?? env.DROVER_CONFIG ?? defaultConfigFile(env);
  const fromFile = path ? readConfigFile(path, file !== undefined || env.DROVER_CONFIG !== undefined) : {};
  const merged = deepMerge(deepMerge(fromFile, fromEnv(env)), overrides);
  const parsed = DroverConfig.safeParse(merged);
  if (!parsed.success) throw new AppError('ConfigInvalid', `invalid config${path ? ` (${path})` : ''}: ${oneLine(parsed.error)}`);
  const { uiUrl, ...temporal } = parsed.data.temporal;
  const ui = { url: parsed.data.ui.url ?? uiUrl };
  return { ...parsed.data, temporal, ui, dataDir: resolve(parsed.data.dataDir ?? defaultDataDir(env)) };
}

/** zod issues as one line: "temporal.address: expected string; taskQueue: too small". */
export function oneLine(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

function fromEnv(env: NodeJS.ProcessEnv): DroverConfigInput {
  const out: Record<string, unknown> = {};
  const temporal = temporalFromEnv(env);
  if (Object.keys(temporal).length) out.temporal = temporal;
  if (env.DROVER_UI_URL) out.ui = { url: env.DROVER_UI_URL };
  if (env.DROVER_TASK_QUEUE) out.taskQueue = env.DROVER_TASK_QUEUE;
  if (env.DROVER_DATA_DIR) out.dataDir = env.DROVER_DATA_DIR;
  if (env.DROVER_WORKER_ID) out.workerId = env.DROVER_WORKER_ID;
  const worker: Record<string, unknown> = {};
  if (env.DROVER_BACKENDS)
    worker.backends = env.DROVER_BACKENDS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
  if (env.DROVER_RUNTIME) worker.runtime = env.DROVER_RUNTIME;
  if (env.DROVER_DOCKER) worker.docker = !FALSE.test(env.DROVER_DOCKER);
  if (Object.keys(worker).length) out.worker = worker;
  return out as DroverConfigInput;
}

const TLS_ENV = {
  TEMPORAL_TLS_CERT: 'cert',
  TEMPORAL_TLS_KEY: 'key',
  TEMPORAL_TLS_CA: 'ca',
  TEMPORAL_TLS_SERVER_NAME: 'serverName',
} as const;

/** The Temporal CLI's variables, so one environment serves `temporal` and `drover` alike. */
function temporalFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const temporal: Record<string, unknown> = {};
  if (env.TEMPORAL_ADDRESS) temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) temporal.namespace = env.TEMPORAL_NAMESPACE;
  if (env.TEMPORAL_API_KEY) temporal.apiKey = env.TEMPORAL_API_KEY;
  const tls: Record<string, unknown> = {};
  if (env.TEMPORAL_TLS) tls.enabled = !FALSE.test(env.TEMPORAL_TLS);
  for (const [name, key] of Object.entries(TLS_ENV)) if (env[name]) tls[key] = env[name];
  if (Object.keys(tls).length) temporal.tls = tls;
  return temporal;
}
const FALSE = /^(0|false|no|off)$/i;

/**
 * Only the user's config directory, never the current directory: a cloned repository could otherwise point
 * the CLI and the worker at another server or change the agents' settings.
 */
function defaultConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  const file = join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'drover', 'config.yaml');
  return existsSync(file) ? file : undefined;
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_DATA_HOME ?? join(env.HOME ?? homedir(), '.local', 'share'), 'drover');
}

function readConfigFile(path: string, required: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (required) throw new AppError('ConfigInvalid', `config file not found: ${path}`);
    return {};
  }
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AppError('ConfigInvalid', `config file ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new AppError('ConfigInvalid', `config file ${path} must be a mapping`);
  return data as Record<string, unknown>;
}

function deepMerge(a: object, b: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlain(prev) && isPlain(v) ? deepMerge(prev, v) : v;
  }
  return out;
}
const isPlain = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);
