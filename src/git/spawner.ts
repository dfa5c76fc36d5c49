/**
 * Starts git commands through the spawner process (spawner-child.ts), so a busy worker's event loop does not
 * stop for each fork. Started on first use; a spawner that died is replaced by the next call, and the calls
 * it had are failed (git errors are retried by the activity).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SpawnRequest {
  id: number;
  /** git when absent. */
  command?: 'git' | 'rm';
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}
export type SpawnReply =
  | { id: number; code: number | null; stdout: Buffer | Uint8Array; stderr: Buffer | Uint8Array }
  | { id: number; error: string; code?: string };

/** The spawner failed the call (git did not run to an exit): git's own processes may still be running. */
export class SpawnerError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SpawnerError';
  }
}

export interface GitOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Spawner {
  /** Runs git with these arguments; rejects only when git could not be started or the spawner died. */
  run(argv: string[], opts: { cwd: string; env: Record<string, string>; signal: AbortSignal }): Promise<GitOutput>;
  /**
   * Removes a directory tree with `rm -rf` (links are removed, never followed; mount points are not
   * crossed). Node's own recursive rm of a 20,000-file worktree left the worker 40 MB larger for good.
   */
  removeTree(...paths: string[]): Promise<void>;
  close(): void;
}

const COMPILED = import.meta.url.endsWith('.js');
const REMOVE_TIMEOUT_MS = 5 * 60_000;
const CHILD = fileURLToPath(new URL(`./spawner-child.${COMPILED ? 'js' : 'ts'}`, import.meta.url));

interface PendingCall {
  resolve: (o: GitOutput) => void;
  reject: (e: Error) => void;
}

/** One spawner's state: its current child process (none until first use or after one died) and its calls. */
interface SpawnerState {
  child: ChildProcess | undefined;
  next: number;
  pending: Map<number, PendingCall>;
}

interface CallOptions {
  cwd: string;
  env: Record<string, string>;
  signal: AbortSignal;
}

export function createSpawner(): Spawner {
  const state: SpawnerState = { child: undefined, next: 0, pending: new Map() };
  return {
    run(argv, opts) {
      return callChild(state, 'git', argv, opts);
    },
    removeTree(...paths) {
      return removeTree(state, paths);
    },
    close() {
      state.child?.kill();
      state.child = undefined;
    },
  };
}

function failPending(state: SpawnerState, message: string): void {
  for (const [id, p] of state.pending) {
    state.pending.delete(id);
    p.reject(new SpawnerError(message));
  }
}

function startChild(state: SpawnerState): ChildProcess {
  const c = fork(CHILD, [], {
    // From the sources (tests, development) the spawner is TypeScript too.
    // tsx as an absolute URL: `--import tsx` would be looked up from the worker's working directory.
    execArgv: COMPILED ? [] : ['--import', import.meta.resolve('tsx')],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  c.on('message', (reply: SpawnReply) => {
    const p = state.pending.get(reply.id);
    if (!p) return;
    state.pending.delete(reply.id);
    if ('error' in reply) p.reject(new SpawnerError(reply.error, reply.code));
    else
      p.resolve({
        code: reply.code,
        stdout: Buffer.from(reply.stdout).toString('utf8'),
        stderr: Buffer.from(reply.stderr).toString('utf8'),
      });
  });
  // A fork that fails (EAGAIN when the user is at its process limit) or a send to a dead spawner.
  c.on('error', (err) => {
    if (state.child === c) state.child = undefined;
    failPending(state, `the git spawner failed: ${err.message}`);
  });
  c.once('exit', (code, signal) => {
    if (state.child === c) state.child = undefined;
    failPending(state, `the git spawner exited (${signal ?? code}) while git ran`);
  });
  // Not a reason for the worker to stay up, nor a process it waits for.
  c.unref();
  c.channel?.unref();
  return c;
}

async function removeTree(state: SpawnerState, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  // Bounded like any local git step: a tree on a hung mount must not hold cleanup for ever.
  const signal = AbortSignal.timeout(REMOVE_TIMEOUT_MS);
  const { code, stderr } = await callChild(state, 'rm', ['-rf', '--one-file-system', '--', ...paths], {
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    signal,
  });
  if (signal.aborted) throw new Error(`rm -rf ${paths.join(' ')} did not finish within ${REMOVE_TIMEOUT_MS / 60_000} min`);
  if (code !== 0) throw new Error(`rm -rf ${paths.join(' ')}: ${stderr.trim() || `exit ${code}`}`);
}

function callChild(state: SpawnerState, command: 'git' | 'rm', argv: string[], { cwd, env, signal }: CallOptions): Promise<GitOutput> {
  if (signal.aborted) return Promise.resolve({ code: null, stdout: '', stderr: 'command aborted' });
  state.child ??= startChild(state);
  const c = state.child;
  const id = ++state.next;
  return new Promise<GitOutput>((resolve, reject) => {
    const onAbort = () => c.connected && c.send({ kill: id }, () => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    const done =
      <T>(f: (v: T) => void) =>
      (v: T) => {
        signal.removeEventListener('abort', onAbort);
        f(v);
      };
    state.pending.set(id, { resolve: done(resolve), reject: done(reject) });
    c.channel?.ref();
    c.send({ id, command, argv, cwd, env } satisfies SpawnRequest, (err) => {
      if (!err) return;
      const p = state.pending.get(id);
      state.pending.delete(id);
      p?.reject(err);
    });
  }).finally(() => {
    if (state.pending.size === 0) c.channel?.unref();
  });
}
