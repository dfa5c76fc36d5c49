/**
 * Pages of a job's log for `drover logs` on another machine, which reaches this worker's data dir only
 * through the readJobLog workflow. Anyone who can start a workflow can ask, so the job id is checked (it
 * names a directory) and the file is read without following a link planted in place of it or its directory.
 */
import { createCipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { basename, dirname } from 'node:path';
import type { DataPaths } from '../config/paths.js';
import { oneLine } from '../config/load.js';
import { AppError } from '../shared/errors.js';
import { LOG_PAGE_MAX_BYTES, LOG_PAGE_SEAL } from '../shared/log-page.js';
import { type LogPage, ReadLogPageInput, type ReadLogPageRequest } from '../shared/schemas.js';
import type { Redact } from './redact.js';
import { withRegularFile } from './no-follow.js';

const NEWLINE = 0x0a;

type PlainPage = Omit<LogPage, 'sealed'> & { text: string };

export function createReadLogActivities(deps: { paths: DataPaths; redact: Redact }) {
  return {
    async readJobLogPage(raw: ReadLogPageRequest): Promise<LogPage> {
      const parsed = ReadLogPageInput.safeParse(raw);
      if (!parsed.success) throw new AppError('InvalidInput', `readJobLogPage: ${oneLine(parsed.error)}`);
      const { jobId, offset, maxBytes, sealTo, waitMs } = parsed.data;
      const readerKey = readerKeyFrom(sealTo);
      const file = deps.paths.jobLog(jobId);
      const read = () => readPage(dirname(file), basename(file), offset, Math.min(maxBytes, LOG_PAGE_MAX_BYTES));
      let page = await read();
      // -f asks again at once after an empty page: waiting here costs one read workflow per wait, not per second.
      for (const until = Date.now() + waitMs; (!page || page.text === '') && Date.now() < until; page = await read()) await delay(POLL_MS);
      const { text, ...rest } = page ?? { text: '', nextOffset: offset, size: 0, exists: false };
      // Redacted when written; once more here, because a page is the one place the log leaves this machine.
      return { ...rest, sealed: sealPage(deps.redact(text), readerKey) };
    },
  };
}

const POLL_MS = 200;

function readerKeyFrom(sealTo: string): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(sealTo, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new AppError('InvalidInput', 'readJobLogPage: sealTo is not an X25519 public key');
  }
}

/** The page for the reader's eyes only (LOG_PAGE_SEAL). */
function sealPage(text: string, readerKey: KeyObject): string {
  if (readerKey.asymmetricKeyType !== 'x25519') throw new AppError('InvalidInput', 'readJobLogPage: sealTo is not an X25519 public key');
  const own = generateKeyPairSync('x25519');
  const secret = diffieHellman({ privateKey: own.privateKey, publicKey: readerKey });
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), LOG_PAGE_SEAL.info, 32));
  const iv = randomBytes(LOG_PAGE_SEAL.ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  const publicKey = own.publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.concat([publicKey, iv, cipher.getAuthTag(), body]).toString('base64');
}

/** The complete lines in at most maxBytes from offset on; undefined when there is no log (yet). */
function readPage(dir: string, name: string, offset: number, maxBytes: number): Promise<PlainPage | undefined> {
  return withRegularFile(dir, name, async (f, size) => {
    const start = Math.min(offset, size);
    const buf = Buffer.alloc(Math.min(maxBytes, size - start));
    const { bytesRead } = await f.read(buf, 0, buf.length, start);
    const taken = completeLines(buf.subarray(0, bytesRead), bytesRead === maxBytes);
    return { text: taken.toString('utf8'), nextOffset: start + taken.length, size, exists: true };
  });
}

/**
 * Up to the last newline. A full page without one holds part of a line longer than a page: it is returned
 * cut at a character boundary, or following would never get past it.
 */
function completeLines(bytes: Buffer, full: boolean): Buffer {
  const end = bytes.lastIndexOf(NEWLINE) + 1;
  if (end > 0 || !full) return bytes.subarray(0, end);
  let cut = bytes.length;
  // Back over UTF-8 continuation bytes (10xxxxxx) and the lead byte they belong to.
  while (cut > 0 && (bytes[cut - 1]! & 0xc0) === 0x80) cut--;
  if (cut > 0 && bytes[cut - 1]! >= 0xc0) cut--;
  return bytes.subarray(0, cut > 0 ? cut : bytes.length);
}
