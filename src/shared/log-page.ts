/**
 * How `drover logs` reads a job's log from another machine, in one place: the readJobLog workflow runs the
 * readJobLogPage activity on the queue of the worker holding the log, with these bounds. No zod here: the
 * workflow bundle imports this, and every workflow would evaluate zod again.
 */

/** A page's bytes; the activity caps what it is asked for to this, whatever the caller asks. */
export const LOG_PAGE_MAX_BYTES = 256 * 1024;

/**
 * A stopped worker never takes the read: after scheduleToStart the activity times out (never retried), and
 * the CLI gives up as long on a read no worker took at all. Reading a page of a local file takes far less
 * than startToClose; workflowRun bounds the whole read.
 */
export const LOG_PAGE_TIMEOUTS = { scheduleToStart: '10s', startToClose: '30s', workflowRun: '1m' } as const;

/** How long a read may wait for the log to grow: well inside the activity's startToClose. */
export const LOG_PAGE_MAX_WAIT_MS = 10_000;

/**
 * How a page is sealed to its reader, so that the log never lies readable in the read workflow's history:
 * X25519 between the reader's one-time key and a one-time key of the worker's, HKDF-SHA256 with this info,
 * AES-256-GCM. Sealed: base64 of the worker's public key (DER) | iv | tag | ciphertext.
 */
export const LOG_PAGE_SEAL = { info: 'drover log page v1', publicKeyBytes: 44, ivBytes: 12, tagBytes: 16 } as const;

/** The workflow type; `drover list` shows only job workflow types, so these never appear there. */
export const READ_LOG_WORKFLOW = 'readJobLog';

export const readLogWorkflowId = (jobId: string, suffix: string): string => `drover-log-${jobId}-${suffix}`;
