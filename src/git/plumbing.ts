/**
 * Local git plumbing without simple-git. simple-git waits a fixed 50 ms after every command that prints
 * nothing (its completion plugin), and most local plumbing (read-tree, add, update-ref, reset) prints nothing:
 * 56 ms a call against 4 ms spawned directly, 12-20 such calls a job. Network steps (clone, fetch, push) stay
 * on simple-git, with call shapes that print (bench/README.md, "simple-git's wait").
 *
 * Only git.ts calls this: it builds the argv (hardened -c settings first) and the environment.
 */
import { spawn } from 'node:child_process';

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

/** Runs git and returns its trimmed stdout; rejects with stderr on a non-zero exit, or when `signal` aborts. */
export function runPlumbing(argv: string[], opts: { cwd: string; env: Record<string, string>; signal: AbortSignal }): Promise<string> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) return reject(new GitCommandError('git command aborted', null));
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
      const stdout = Buffer.concat(out).toString('utf8').trim();
      if (code === 0 && !opts.signal.aborted) return resolve(stdout);
      const stderr = Buffer.concat(err).toString('utf8').trim();
      reject(new GitCommandError(stderr || stdout || `git exited with ${code ?? 'a signal'}`, code));
    });
  });
}
