/**
 * Pages of a job's log for `drover logs` on another machine, which reaches this worker's data dir only
 * through the readJobLog workflow. Anyone who can start a workflow can ask, so the job id is checked (it
 * names a directory) and the file is read without following a link planted in place of it or its directory.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DataPaths } from '../config/paths.js';
import { oneLine } from '../config/load.js';
import { AppError } from '../shared/errors.js';
import { LOG_PAGE_MAX_BYTES } from '../shared/log-page.js';
import { type LogPage, ReadLogPageInput } from '../shared/schemas.js';
import { inDir, UnsafeFile } from './no-follow.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;
const NEWLINE = 0x0a;

export function createReadLogActivities(deps: { paths: DataPaths }) {
  return {
    async readJobLogPage(raw: ReadLogPageInput): Promise<LogPage> {
      const parsed = ReadLogPageInput.safeParse(raw);
      if (!parsed.success) throw new AppError('InvalidInput', `readJobLogPage: ${oneLine(parsed.error)}`);
      const { jobId, offset, maxBytes } = parsed.data;
      const file = deps.paths.jobLog(jobId);
      const page = await readPage(dirname(file), basename(file), offset, Math.min(maxBytes, LOG_PAGE_MAX_BYTES));
      return page ?? { text: '', nextOffset: offset, size: 0, exists: false };
    },
  };
}

/** The complete lines in at most maxBytes from offset on; undefined when there is no log (yet). */
function readPage(dir: string, name: string, offset: number, maxBytes: number): Promise<LogPage | undefined> {
  return inDir(dir, async (at) => {
    const f = await open(at(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      if (err.code === 'ELOOP') throw new UnsafeFile(join(dir, name), 'is a symbolic link');
      throw err;
    });
    if (!f) return undefined;
    try {
      const stat = await f.stat();
      if (!stat.isFile()) throw new UnsafeFile(join(dir, name), 'is not a regular file');
      const start = Math.min(offset, stat.size);
      const buf = Buffer.alloc(Math.min(maxBytes, stat.size - start));
      const { bytesRead } = await f.read(buf, 0, buf.length, start);
      const taken = completeLines(buf.subarray(0, bytesRead), bytesRead === maxBytes);
      return { text: taken.toString('utf8'), nextOffset: start + taken.length, size: stat.size, exists: true };
    } finally {
      await f.close();
    }
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
