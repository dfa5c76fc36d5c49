import { spawn } from 'node:child_process';
import { lineSplitter } from './line-splitter.js';
import { watchdog } from './watchdog.js';
import { killTaggedProcesses, TAG_ENV } from './process-tags.js';
import { type ExecEnd, type ExecResult, type ExecSpec, KILL_GRACE_MS, type Runtime } from './runtime.js';

const STDIO_DRAIN_MS = 500;

/**
 * Runs processes on the worker's host, each in its own process group, so that a timeout, the idle watchdog or
 * a cancellation kills the agent and everything it started.
 */
export function createHostRuntime(): Runtime {
  return { kind: 'host', exec, killTagged };
}

function exec(spec: ExecSpec): Promise<ExecResult> {
  const started = Date.now();
  // PWD is the worker's otherwise, and some CLIs (OpenCode) take it for their working directory.
  const env = { ...spec.env, PWD: spec.cwd, ...(spec.tag ? { [TAG_ENV]: spec.tag } : {}) };
  const [cmd, ...args] = spec.argv;
  if (!cmd) return Promise.reject(new Error('empty argv'));
  const child = spawn(cmd, args, { cwd: spec.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });

  return new Promise<ExecResult>((resolve, reject) => {
    let end: ExecEnd = 'exit';
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: ExecEnd) => {
      if (end !== 'exit' || child.exitCode !== null || child.signalCode !== null) return;
      end = why;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const dog = watchdog(spec, stop);

    const splitters = (['stdout', 'stderr'] as const).map((stream) => {
      const s = lineSplitter((line) => spec.onLine?.(stream, line));
      child[stream].on('data', (chunk: Buffer) => {
        dog.touch();
        s.push(chunk);
      });
      return s;
    });
    child.stdin.on('error', () => undefined); // the process may exit without reading its input
    if (spec.keepStdinOpen) child.stdin.write(spec.stdin ?? '');
    else child.stdin.end(spec.stdin ?? '');
    spec.onStart?.({
      write: (text) => {
        if (child.stdin.writable) child.stdin.write(text);
      },
      closeStdin: () => child.stdin.end(),
      finish: () => stop('finished'),
    });

    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      dog.dispose();
      clearTimeout(killTimer);
      // Whatever the agent left running in its group dies with it.
      killGroup(child.pid, 'SIGKILL');
      for (const s of splitters) s.end();
      // A grandchild that left the group may still hold the pipes; let go of them.
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ exitCode: code, signal, end, durationMs: Date.now() - started });
    };
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      dog.dispose();
      reject(err);
    });
    // Wait for stdio to drain after exit, but not forever: a grandchild may hold the pipes open.
    child.on('exit', (code, signal) => {
      const drain = setTimeout(() => finish(code, signal), STDIO_DRAIN_MS);
      child.on('close', () => {
        clearTimeout(drain);
        finish(code, signal);
      });
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stops every process carrying the tag (they may have left the agent's process group). */
const killTagged = (tag: string): Promise<number> => killTaggedProcesses(TAG_ENV, tag);
