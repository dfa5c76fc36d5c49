/** A page of a job's log, read on the worker that holds it (src/activities/read-log.ts). */
import { z } from 'zod';
import { LOG_PAGE_MAX_WAIT_MS } from '../log-page.js';
import { JobId } from './primitives.js';

export const ReadLogPageInput = z.object({
  jobId: JobId,
  /** Where the page starts, in bytes: the nextOffset of the page before. */
  offset: z.number().int().min(0),
  /** At most this many bytes; more than LOG_PAGE_MAX_BYTES is read as that many. */
  maxBytes: z.number().int().positive(),
  /** The reader's one-time X25519 public key (DER, base64): the page is sealed to it (see LOG_PAGE_SEAL). */
  sealTo: z.string().min(40).max(200),
  /** With nothing new at offset, wait this long for the log to grow before answering (drover logs -f). */
  waitMs: z.number().int().min(0).max(LOG_PAGE_MAX_WAIT_MS).default(0),
});
export type ReadLogPageInput = z.infer<typeof ReadLogPageInput>;

/** The readJobLog workflow's input: the page, and the queue of the worker whose data dir has the log. */
export type ReadLogPageRequest = z.input<typeof ReadLogPageInput>;
export const ReadJobLogInput = ReadLogPageInput.extend({ hostQueue: z.string().min(1).max(1000) });
export type ReadJobLogInput = z.infer<typeof ReadJobLogInput>;

export const LogPage = z.object({
  /**
   * The page's text sealed to the reader's key: complete lines only (each ends with a newline), or one cut
   * piece of a line longer than a page. Only the reader can open it; history holds ciphertext.
   */
  sealed: z.string(),
  nextOffset: z.number().int(),
  /** The file's size when the page was read. */
  size: z.number().int(),
  exists: z.boolean(),
});
export type LogPage = z.infer<typeof LogPage>;
