/**
 * Local git plumbing without simple-git. simple-git waits a fixed 50 ms after every command that prints
 * nothing (its completion plugin), and most local plumbing (read-tree, add, update-ref, reset) prints nothing:
 * 56 ms a call against 4 ms spawned directly, 12-20 such calls a job. Network steps (clone, fetch, push) stay
 * on simple-git, with call shapes that print (bench/README.md, "simple-git's wait").
 *
 * Only git.ts calls this: it builds the argv (hardened -c settings first) and the environment. In the worker
 * the commands start in its spawner process (spawner.ts).
 */
import { spawn } from 'node:child_process';
import type { GitOutput, Spawner } from './spawner.js';

/** The same shape simple-git gives a failed command: git's stderr as the message. */
export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  signal: AbortSignal;
  /** The worker's spawner process; without one (the CLI), git is started from this process. */
  spawner?: Spawner;
}

/** Runs git and returns its trimmed stdout; rejects with stderr on a non-zero exit, or when `signal` aborts. */
export async function runPlumbing(argv: string[], opts: RunOptions): Promise<string> {
  const { code, stdout, stderr } = opts.spawner ? await opts.spawner.run(argv, opts) : await spawnHere(argv, opts);
  if (code === 0 && !opts.signal.aborted) return stdout.trim();
  throw new GitCommandError(stderr.trim() || stdout.trim() || `git exited with ${code ?? 'a signal'}`, code);
}

function spawnHere(argv: string[], opts: RunOptions): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) return resolve({ code: null, stdout: '', stderr: 'git command aborted' });
    const child = spawn('git', argv, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const onAbort = () => child.kill('SIGKILL');
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => {
      opts.signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.once('close', (code) => {
      opts.signal.removeEventListener('abort', onAbort);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
