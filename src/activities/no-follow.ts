/**
 * File access for places a job can write: a symbolic link is never followed, and only a regular file is
 * read (a FIFO would block, a device would never end).
 */
import type { FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

export class UnsafeFile extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
    /** Which part was refused: the directory, or the file in it. */
    readonly part: 'dir' | 'file' = 'file',
  ) {
    super(`${path} ${why}`);
    this.name = 'UnsafeFile';
  }
}

/** Writes `name` in `dir`, refusing to write through a link planted in place of either. */
export async function writeNoFollow(dir: string, name: string, text: string): Promise<void> {
  const written = await inDir(dir, async (at) => {
    const file = await open(at(name), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ELOOP' ? new UnsafeFile(join(dir, name), 'is a symbolic link') : err;
    });
    try {
      await file.writeFile(text);
    } finally {
      await file.close();
    }
    return true;
  });
  if (!written) throw Object.assign(new Error(`${dir} does not exist`), { code: 'ENOENT' });
}

/**
 * Runs `work` with paths relative to `dir`, opened without following a link: /proc/self/fd/N is the
 * directory itself, so a lookup through it starts there (openat). Undefined when `dir` does not exist.
 */
export async function inDir<T>(dir: string, work: (at: (name: string) => string) => Promise<T>): Promise<T | undefined> {
  const d = await open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    if (err.code === 'ELOOP' || err.code === 'ENOTDIR') throw new UnsafeFile(dir, 'is not a directory (a symbolic link?)', 'dir');
    throw err;
  });
  if (!d) return undefined;
  try {
    return await work((name) => join('/proc/self/fd', String(d.fd), name));
  } finally {
    await d.close();
  }
}

/**
 * Opens a regular file for reading, or gives undefined when there is none. `dir` is opened without following
 * a link and the file is opened relative to it, so neither can lead elsewhere; the file is closed after `use`.
 */
export async function withRegularFile<T>(
  dir: string,
  name: string,
  use: (f: FileHandle, size: number) => Promise<T>,
): Promise<T | undefined> {
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
      return await use(f, stat.size);
    } finally {
      await f.close();
    }
  });
}

/** Reads a regular file of at most maxBytes, or undefined when there is none (see withRegularFile). */
export async function readNoFollow(dir: string, name: string, maxBytes: number): Promise<string | undefined> {
  return withRegularFile(dir, name, async (f, size) => {
    if (size > maxBytes) throw new UnsafeFile(join(dir, name), `is larger than ${maxBytes} bytes`);
    const buf = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await f.read(buf, 0, buf.length, 0);
    if (bytesRead > maxBytes) throw new UnsafeFile(join(dir, name), `is larger than ${maxBytes} bytes`);
    return buf.subarray(0, bytesRead).toString('utf8');
  });
}

/** Removes `name` inside `dir` (a link is removed, never its target); a dir that is a link is left alone. */
export async function removeNoFollow(dir: string, name: string): Promise<void> {
  await inDir(dir, (at) =>
    unlink(at(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' && err.code !== 'EISDIR' && err.code !== 'EPERM') throw err;
    }),
  ).catch((err: unknown) => {
    if (!(err instanceof UnsafeFile)) throw err; // a directory that is a link holds nothing of ours to remove
  });
}
