/**
 * The worker's git spawner: a small process that starts git commands for the worker and sends back what they
 * printed. Starting a process from Node blocks its event loop for a time that grows with the process's
 * memory (fork copies the page tables): 1.5 ms from a 45 MB process, 8-12 ms from a 250-360 MB worker, for
 * each of the dozen git commands a job runs. Here it costs the small process, not the worker's loop.
 *
 * Messages (Node IPC, advanced serialization): in {id, argv, cwd, env} and {kill: id}; out {id, code,
 * stdout, stderr} or {id, error}. The spawner exits, and kills what it started, when the worker goes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { SpawnReply, SpawnRequest } from './spawner.js';

const running = new Map<number, ChildProcess>();
const send = (reply: SpawnReply) => process.send?.(reply);

process.on('message', (msg: SpawnRequest | { kill: number }) => {
  if ('kill' in msg) return void running.get(msg.kill)?.kill('SIGKILL');
  const { id, argv, cwd, env } = msg;
  const child = spawn('git', argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(id, child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  child.once('error', (e) => {
    running.delete(id);
    send({ id, error: e.message });
  });
  child.once('close', (code) => {
    if (!running.delete(id)) return;
    send({ id, code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
  });
});

process.on('disconnect', () => {
  for (const child of running.values()) child.kill('SIGKILL');
  process.exit(0);
});
