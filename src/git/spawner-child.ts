/**
 * The worker's git spawner: a small process that starts git commands (and `rm -rf` of job trees) for the
 * worker and sends back what they printed. Starting a process from Node blocks its event loop for a time that grows with the process's
 * memory (fork copies the page tables): 1.5 ms from a 45 MB process, 8-12 ms from a 250-360 MB worker, for
 * each of the dozen git commands a job runs. Here it costs the small process, not the worker's loop.
 *
 * Messages (Node IPC, advanced serialization): in {id, argv, cwd, env} and {kill: id}; out {id, code,
 * stdout, stderr} or {id, error}. The spawner exits, and kills what it started, when the worker goes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { SpawnReply, SpawnRequest } from './spawner.js';

const running = new Map<number, ChildProcess>();
const ALLOWED = new Set(['git', 'rm']);
const send = (reply: SpawnReply) => process.send?.(reply);

process.on('message', (msg: SpawnRequest | { kill: number }) => {
  if ('kill' in msg) return void running.get(msg.kill)?.kill('SIGKILL');
  const { id, argv, cwd, env } = msg;
  const command = msg.command ?? 'git';
  let child: ChildProcess;
  try {
    if (!ALLOWED.has(command)) throw new Error(`the spawner runs only ${[...ALLOWED].join(' and ')}`);
    child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // spawn throws for some bad input (a NUL in an argument): that call fails, the spawner stays.
    return void send({
      id,
      error: (err as Error).message,
      ...((err as NodeJS.ErrnoException).code ? { code: (err as NodeJS.ErrnoException).code! } : {}),
    });
  }
  running.set(id, child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  child.once('error', (e: NodeJS.ErrnoException) => {
    running.delete(id);
    send({ id, error: e.message, ...(e.code ? { code: e.code } : {}) });
  });
  child.once('close', (code) => {
    if (!running.delete(id)) return;
    send({ id, code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
  });
});

function killAll(): void {
  for (const child of running.values()) child.kill('SIGKILL');
}

process.on('disconnect', () => {
  killAll();
  process.exit(0);
});
process.on('uncaughtException', (err) => {
  killAll();
  process.stderr.write(`drover git spawner: ${err.stack ?? err}\n`);
  process.exit(70);
});
