/**
 * The worker's notify config with its secrets resolved: read once at start, held only in the worker's memory.
 * Nothing here goes into history; the workflow learns only which events the worker subscribes to.
 */
import type { DroverConfig, NotifyConfig } from '../config/schema.js';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import { NOTIFY_EVENTS, type NotifyEvent } from '../shared/schemas.js';

export interface WebhookTarget {
  kind: 'webhook';
  url: string;
  events: readonly NotifyEvent[];
  /** Absent: sent unsigned, with no signature header. */
  secret?: string;
  /** Why it is not sent at all (a job's URL outside notify.jobWebhookAllow). */
  refuse?: string;
}

export interface CommandTarget {
  kind: 'command';
  argv: readonly string[];
  events: readonly NotifyEvent[];
  timeoutMs: number;
}

export type NotifyTarget = WebhookTarget | CommandTarget;

export interface NotifyDeps {
  /** The worker's own webhooks and commands. */
  targets: NotifyTarget[];
  /** Signs the webhooks a job names. */
  jobSecret?: string;
  /** Globs of the URLs a job's webhooks may reach; absent: any. */
  jobAllow?: string[];
  /** The Temporal UI's base URL and namespace, for the payload's link; no base, no link. */
  uiBase?: string;
  namespace: string;
}

/** Commands are bounded well inside the delivery activity's own timeout (src/workflows/notify.ts). */
export const MAX_COMMAND_TIMEOUT_MS = 4 * 60_000;

/** The variables named by secretEnv settings: the worker reads them, its agents never get them. */
export function notifySecretNames(notify: NotifyConfig): string[] {
  const names = notify.webhooks.map((w) => w.secretEnv).concat(notify.jobSecretEnv);
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}

function secretFrom(inline: string | undefined, name: string | undefined, env: Record<string, string | undefined>, what: string) {
  if (inline) return inline;
  if (!name) return undefined;
  const value = env[name];
  if (!value) throw new AppError('ConfigInvalid', `${what}: secretEnv ${name} is not set in the worker's environment`);
  return value;
}

/** Throws ConfigInvalid for a secretEnv that names no variable: a worker should not start with unsigned hooks it meant to sign. */
export function resolveNotify(config: DroverConfig, env: Record<string, string | undefined>): NotifyDeps {
  const { notify } = config;
  const targets: NotifyTarget[] = [];
  for (const [i, w] of notify.webhooks.entries()) {
    const secret = secretFrom(w.secret, w.secretEnv, env, `notify.webhooks[${i}]`);
    targets.push({ kind: 'webhook', url: w.url, events: w.events, ...(secret ? { secret } : {}) });
  }
  for (const [i, c] of notify.commands.entries()) {
    const timeoutMs = durationMs(c.timeout);
    if (timeoutMs > MAX_COMMAND_TIMEOUT_MS) throw new AppError('ConfigInvalid', `notify.commands[${i}].timeout: at most 4m`);
    targets.push({ kind: 'command', argv: c.argv, events: c.events, timeoutMs });
  }
  const jobSecret = secretFrom(notify.jobSecret, notify.jobSecretEnv, env, 'notify.jobSecretEnv');
  const uiBase = config.ui.url ?? config.temporal.uiUrl;
  const jobAllow = notify.jobWebhookAllow;
  return {
    targets,
    namespace: config.temporal.namespace,
    ...(jobSecret ? { jobSecret } : {}),
    ...(jobAllow ? { jobAllow } : {}),
    ...(uiBase ? { uiBase } : {}),
  };
}

/** The events any of the worker's targets wants, in a stable order (they are recorded in the job's history). */
export function subscribedEvents(deps: NotifyDeps | undefined): NotifyEvent[] {
  const wanted = new Set(deps?.targets.flatMap((t) => t.events) ?? []);
  return NOTIFY_EVENTS.filter((e) => wanted.has(e));
}

/** The secrets, for the redactor: a value that shows up in an error message never reaches history. */
export function notifySecrets(deps: NotifyDeps | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, t] of (deps?.targets ?? []).entries()) if (t.kind === 'webhook' && t.secret) out[`NOTIFY_SECRET_${i}`] = t.secret;
  if (deps?.jobSecret) out.NOTIFY_JOB_SECRET = deps.jobSecret;
  return out;
}
