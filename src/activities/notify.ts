/**
 * Delivers one job event to every target that wants it: the worker's webhooks and commands, and the job's own
 * webhooks. At least once: a target that failed is tried again on the activity's next attempt (any worker),
 * one that succeeded is skipped by its mark in the heartbeat details; a receiver dedupes by X-Drover-Delivery.
 */
import { createHash, createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import type { Runtime } from '../runtimes/runtime.js';
import { AppError } from '../shared/errors.js';
import { matchesAny } from '../shared/glob.js';
import type { NotifyDelivery, NotifyPayload } from '../shared/schemas.js';
import type { NotifyDeps, NotifyTarget } from './notify-targets.js';

const REQUEST_TIMEOUT_MS = 10_000;
const HEARTBEAT_EVERY_MS = 5_000;

/** `sha256=<hex>` of the raw body, GitHub's convention, so existing verifiers work unchanged. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export const jobUiLink = (base: string, namespace: string, jobId: string): string =>
  `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(jobId)}`;

/** The worker's targets for the event, then the job's webhooks (signed with the job secret when there is one). */
export function targetsFor(deps: NotifyDeps | undefined, delivery: NotifyDelivery): NotifyTarget[] {
  const event = delivery.payload.event;
  const own = (deps?.targets ?? []).filter((t) => t.events.includes(event));
  const secret = deps?.jobSecret;
  const allow = deps?.jobAllow;
  const job = delivery.jobWebhooks.map((url): NotifyTarget => {
    // A job's URL is the job's word: the worker posts only where its config says jobs may point it.
    const refuse = !allow
      ? 'this worker sends no job webhooks (its notify.jobWebhookAllow is unset)'
      : !matchesAny(url, allow)
        ? `job webhook ${origin(url)} is not in notify.jobWebhookAllow`
        : undefined;
    return { kind: 'webhook', url, events: [event], ...(secret ? { secret } : {}), ...(refuse ? { refuse } : {}) };
  });
  return [...own, ...job];
}

/** A target's mark in the heartbeat details: a short hash, because a webhook URL may itself be a credential. */
const targetKey = (t: NotifyTarget): string =>
  createHash('sha256')
    .update(t.kind === 'webhook' ? `webhook\0${t.url}` : `command\0${t.argv.join('\0')}`)
    .digest('hex')
    .slice(0, 16);

/** Only the origin: a path or query can hold a token (chat tools put theirs there), and failures go into history. */
const origin = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return 'webhook';
  }
};

export interface Delivery {
  id: string;
  event: string;
  body: string;
  signal: AbortSignal;
}

export async function postWebhook(target: Extract<NotifyTarget, { kind: 'webhook' }>, d: Delivery): Promise<void> {
  if (target.refuse) throw new AppError('NotificationRejected', target.refuse);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'drover-notify',
    'x-drover-event': d.event,
    'x-drover-delivery': d.id,
  };
  if (target.secret) headers['x-drover-signature'] = signature(target.secret, d.body);
  let status: number;
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers,
      body: d.body,
      redirect: 'manual',
      signal: AbortSignal.any([d.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    status = res.status;
    await res.body?.cancel().catch(() => undefined);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new AppError('NotificationFailed', `webhook ${origin(target.url)} unreachable (${cause})`);
  }
  if (status >= 200 && status < 300) return;
  // A refusal (and a redirect, which is not followed) would be the same next time; 408 and 429 ask for a retry.
  const refused = status >= 300 && status < 500 && status !== 408 && status !== 429;
  throw new AppError(refused ? 'NotificationRejected' : 'NotificationFailed', `webhook ${origin(target.url)} answered ${status}`);
}

/** The command with a minimal environment (none of the worker's credentials), bounded, its process tree killed at the end. */
export async function runCommand(runtime: Runtime, target: Extract<NotifyTarget, { kind: 'command' }>, d: Delivery): Promise<void> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', DROVER_EVENT: d.event, DROVER_DELIVERY: d.id };
  for (const name of ['HOME', 'LANG', 'DISPLAY', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const name = target.argv[0] ?? 'command';
  let result: Awaited<ReturnType<Runtime['exec']>>;
  try {
    result = await runtime.exec({
      argv: target.argv,
      cwd: tmpdir(),
      env,
      stdin: d.body,
      hardTimeoutMs: target.timeoutMs,
      signal: d.signal,
    });
  } catch (err) {
    throw new AppError('NotificationFailed', `notify command ${name} did not start (${(err as Error).message})`);
  }
  if (result.end === 'timeout') throw new AppError('NotificationFailed', `notify command ${name} timed out`);
  if (result.end !== 'exit' || result.exitCode !== 0) {
    throw new AppError('NotificationFailed', `notify command ${name} exited with ${result.exitCode ?? result.signal ?? result.end}`);
  }
}

type NotifyContext = { notify?: NotifyDeps; runtime: Runtime };

export function createNotifyActivities(ctx: NotifyContext) {
  return {
    /** Never returns anything: its result would be in history, and there is nothing a job needs back. */
    async deliverNotification(delivery: NotifyDelivery): Promise<void> {
      const info = activityInfo();
      const done = new Set<string>((info.heartbeatDetails as { done?: string[] } | undefined)?.done ?? []);
      const beat = () => heartbeat({ done: [...done] });
      const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
      try {
        const id = info.workflowExecution?.workflowId ?? info.activityId;
        await deliverEvent(ctx, delivery, { id, signal: Context.current().cancellationSignal, done, beat });
      } finally {
        clearInterval(timer);
      }
    },
  };
}

/**
 * Sends to every target not in `done` at once; each one delivered (or refused for good) joins `done`. Throws a
 * retryable failure first, so the retry still reaches that target; a refusal alone ends the delivery.
 */
export async function deliverEvent(
  ctx: NotifyContext,
  delivery: NotifyDelivery,
  run: { id: string; signal: AbortSignal; done: Set<string>; beat?: () => void },
): Promise<void> {
  const payload: NotifyPayload = { ...delivery.payload };
  if (ctx.notify?.uiBase) payload.uiUrl = jobUiLink(ctx.notify.uiBase, ctx.notify.namespace, payload.jobId);
  const d: Delivery = { id: run.id, event: payload.event, body: JSON.stringify(payload), signal: run.signal };
  const failures: unknown[] = [];
  await Promise.all(
    targetsFor(ctx.notify, delivery).map(async (t) => {
      const key = targetKey(t);
      if (run.done.has(key)) return;
      try {
        await (t.kind === 'webhook' ? postWebhook(t, d) : runCommand(ctx.runtime, t, d));
        run.done.add(key);
      } catch (err) {
        if (err instanceof AppError && err.type === 'NotificationRejected') run.done.add(key);
        failures.push(err);
      }
      run.beat?.();
    }),
  );
  const retry = failures.find((f) => !(f instanceof AppError) || f.type !== 'NotificationRejected');
  if (retry ?? failures[0]) throw retry ?? failures[0];
}
