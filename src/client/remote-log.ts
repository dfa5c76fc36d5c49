/**
 * A job's log read through Temporal, for `drover logs` on any machine: the log stays in the data dir of the
 * worker that ran the job, and that worker reads it out page by page (src/workflows/read-log.ts).
 */
import { createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import { ActivityFailure, TimeoutFailure, WorkflowFailedError, type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { TimeoutType } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { DroverClient } from '../client.js';
import { oneLine } from '../config/load.js';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import { hostQueueFor } from '../shared/ids.js';
import {
  LOG_PAGE_MAX_BYTES,
  LOG_PAGE_MAX_WAIT_MS,
  LOG_PAGE_SEAL,
  LOG_PAGE_TIMEOUTS,
  READ_LOG_WORKFLOW,
  readLogWorkflowId,
} from '../shared/log-page.js';
import { type LogPage, ReadJobLogInput, type Workspace } from '../shared/schemas.js';
import { DroverStatus } from '../shared/search-attributes.js';
import { statusQuery } from '../workflows/definitions.js';
import type { readJobLog } from '../workflows/read-log.js';

/** The worker whose data dir has the log (the latest attempt's), its private queue, and the job's queue. */
export interface LogHost {
  worker: string;
  hostQueue: string;
  taskQueue: string;
}

export interface LogLocation {
  running: boolean;
  /** Unset while no worker has taken the job. */
  host?: LogHost;
  phase: string;
}

/**
 * Where the job's log is. A running job says in its status query; a closed one (or one no worker answers
 * for) in its history, so the worker is named even when no worker at all is running.
 */
export async function locateLog(client: DroverClient, jobId: string): Promise<LogLocation> {
  const handle = client.handle(jobId);
  const desc = await handle.describe().catch((err: unknown) => {
    throw err instanceof WorkflowNotFoundError ? new AppError('JobNotFound', `no job with id ${jobId}`) : err;
  });
  const running = desc.status.name === 'RUNNING';
  const taskQueue = desc.taskQueue;
  if (running) {
    const view = await client.client.withDeadline(Date.now() + 5_000, () => handle.query(statusQuery)).catch(() => undefined);
    if (view) {
      const host = view.worker ? { worker: view.worker, hostQueue: hostQueueFor(taskQueue, view.worker), taskQueue } : undefined;
      return { running, phase: view.phase, ...(host ? { host } : {}) };
    }
  }
  const ws = await lastWorkspace(client, jobId);
  const phase = running ? (desc.typedSearchAttributes.get(DroverStatus) ?? 'running') : desc.status.name.toLowerCase();
  return { running, phase, ...(ws ? { host: { worker: ws.workerId, hostQueue: ws.hostQueue, taskQueue } } : {}) };
}

/** The result of the job's last prepareWorkspace: the worker that took the job, and its queue. */
async function lastWorkspace(client: DroverClient, jobId: string): Promise<Workspace | undefined> {
  const history = await client.handle(jobId).fetchHistory();
  const converter = client.client.options.loadedDataConverter.payloadConverter;
  const prepares = new Set<string>();
  let ws: Workspace | undefined;
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'prepareWorkspace') prepares.add(String(e.eventId));
    const done = e.activityTaskCompletedEventAttributes;
    const payload = done?.result?.payloads?.[0];
    if (payload && prepares.has(String(done?.scheduledEventId))) ws = converter.fromPayload(payload) as Workspace;
  }
  return ws;
}

export function noWorkerYet(jobId: string, where: LogLocation): AppError {
  return new AppError(
    'JobNotFound',
    where.running
      ? `job ${jobId} has no worker yet (${where.phase}), so no log; drover logs -f ${jobId} waits for it`
      : `job ${jobId} ended (${where.phase}) before a worker took it: it has no log`,
  );
}

const notRunning = (jobId: string, host: LogHost) =>
  new AppError(
    'WorkerUnavailable',
    `the log of ${jobId} is on worker ${host.worker}, which is not running (no poller on ${host.hostQueue}); ` +
      'run drover logs on that machine or restart that worker',
  );

/** Fails at once when nothing polls the worker's queue (a worker stopped minutes ago may still be listed). */
export async function checkHostRunning(client: DroverClient, jobId: string, host: LogHost): Promise<void> {
  if ((await client.pollers(host.hostQueue)) === 0) throw notRunning(jobId, host);
}

export type OpenedPage = Omit<LogPage, 'sealed'> & { text: string };

/** One page from `offset` on, read by the worker holding the log and sealed to a key only this call holds. */
export async function readRemotePage(client: DroverClient, jobId: string, host: LogHost, offset: number, waitMs = 0): Promise<OpenedPage> {
  const reader = generateKeyPairSync('x25519');
  const sealTo = reader.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const request = { jobId, offset, maxBytes: LOG_PAGE_MAX_BYTES, sealTo, waitMs, hostQueue: host.hostQueue };
  const input = ReadJobLogInput.safeParse(request);
  if (!input.success) throw new AppError('InvalidInput', `drover logs ${jobId}: ${oneLine(input.error)}`);
  const handle = await client.client.workflow.start<typeof readJobLog>(READ_LOG_WORKFLOW, {
    workflowId: readLogWorkflowId(jobId, randomBytes(4).toString('hex')),
    taskQueue: host.taskQueue,
    args: [input.data],
    workflowRunTimeout: LOG_PAGE_TIMEOUTS.workflowRun,
    staticSummary: `drover logs ${jobId} (from byte ${offset}, on ${host.worker})`,
  });
  let timer: NodeJS.Timeout | undefined;
  // Set before the read is ended, so the ended read's own failure, which may arrive first, is not what is said.
  let abandoned = false;
  // Every worker polls the job's queue, the one holding the log too: when none takes the read, that one is
  // gone as well. The server may list a stopped worker's pollers for minutes, so this is what tells.
  const untaken = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void noneTook(handle, () => {
        abandoned = true;
      }).then(
        (none) => none && reject(notRunning(jobId, host)),
        () => undefined,
      );
    }, durationMs(LOG_PAGE_TIMEOUTS.scheduleToStart));
  });
  try {
    const { sealed, ...page } = await Promise.race([handle.result(), untaken]);
    // The read is done with: its history (ciphertext only) need not wait for the namespace's retention.
    void client.client.workflowService
      .deleteWorkflowExecution({ namespace: client.config.temporal.namespace, workflowExecution: { workflowId: handle.workflowId } })
      .catch(() => undefined);
    return { ...page, text: openPage(sealed, reader.privateKey) };
  } catch (err) {
    throw abandoned ? notRunning(jobId, host) : readFailure(err, jobId, host);
  } finally {
    clearTimeout(timer);
  }
}

/** True when no worker has taken the read's first workflow task; the read is then ended, not left waiting. */
async function noneTook(handle: WorkflowHandle, beforeEnding: () => void): Promise<boolean> {
  const desc = await handle.describe();
  const none =
    desc.status.name === 'RUNNING' &&
    desc.raw.pendingWorkflowTask?.state === proto.temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED &&
    !desc.raw.pendingActivities?.length;
  if (none) {
    beforeEnding();
    await handle.terminate('no worker took the log read').catch(() => undefined);
  }
  return none;
}

/** Opens a page sealed by the worker (LOG_PAGE_SEAL in src/shared/log-page.ts). */
export function openPage(sealed: string, privateKey: KeyObject): string {
  const bytes = Buffer.from(sealed, 'base64');
  const { publicKeyBytes, ivBytes, tagBytes, info } = LOG_PAGE_SEAL;
  const workerKey = createPublicKey({ key: bytes.subarray(0, publicKeyBytes), format: 'der', type: 'spki' });
  const key = Buffer.from(hkdfSync('sha256', diffieHellman({ privateKey, publicKey: workerKey }), Buffer.alloc(0), info, 32));
  const iv = bytes.subarray(publicKeyBytes, publicKeyBytes + ivBytes);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(bytes.subarray(publicKeyBytes + ivBytes, publicKeyBytes + ivBytes + tagBytes));
  return Buffer.concat([decipher.update(bytes.subarray(publicKeyBytes + ivBytes + tagBytes)), decipher.final()]).toString('utf8');
}

function readFailure(err: unknown, jobId: string, host: LogHost): unknown {
  const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
  if (cause instanceof ActivityFailure && isTimeout(cause.cause, TimeoutType.SCHEDULE_TO_START)) return notRunning(jobId, host);
  if (isTimeout(cause)) {
    return new AppError(
      'WorkerUnavailable',
      `no worker on ${host.taskQueue} read the log of ${jobId} within ${LOG_PAGE_TIMEOUTS.workflowRun}`,
    );
  }
  return err;
}

const isTimeout = (err: unknown, type?: TimeoutType) => err instanceof TimeoutFailure && (type === undefined || err.timeoutType === type);

/** Pages from `offset` on until one brings nothing new; returns the offset after the last line printed. */
export async function drainRemote(
  client: DroverClient,
  jobId: string,
  host: LogHost,
  offset: number,
  print: (text: string) => void,
  waitMs = 0,
): Promise<{ offset: number; exists: boolean }> {
  for (let first = true; ; first = false) {
    const page = await readRemotePage(client, jobId, host, offset, first ? waitMs : 0);
    if (page.text) print(page.text);
    const more = page.nextOffset > offset && page.nextOffset < page.size;
    offset = page.nextOffset;
    if (!more) return { offset, exists: page.exists };
  }
}

/**
 * How long a read for `drover logs -f` waits on the worker for new lines: one read workflow per 3 s while
 * nothing happens (each deleted once read), and -f ends at most that long after the job.
 */
export const FOLLOW_WAIT_MS = Math.min(3_000, LOG_PAGE_MAX_WAIT_MS);
