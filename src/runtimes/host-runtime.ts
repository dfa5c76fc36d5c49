import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { lineSplitter } from './line-splitter.js';
import { type Watchdog, watchdog } from './watchdog.js';
import { killTaggedProcesses, TAG_ENV } from './process-tags.js';
import { type ExecEnd, type ExecResult, type ExecSpec, KILL_GRACE_MS, type Runtime } from './runtime.js';

const STDIO_DRAIN_MS = 500;

type LineSplitter = ReturnType<typeof lineSplitter>;

/**
 * Runs processes on the worker's host, each in its own process group, so that a timeout, the idle watchdog or
 * a cancellation kills the agent and everything it started.
 */
export function createHostRuntime(): Runtime {
  return { kind: 'host', exec, killTagged };
}

function exec(spec: ExecSpec): Promise<ExecResult> {
  const started = Date.now();
  const [cmd, ...args] = spec.argv;
  if (!cmd) return Promise.reject(new Error('empty argv'));
  const child = spawnInOwnGroup(cmd, args, spec);

  return new Promise<ExecResult>((resolve, reject) => {
    const stopper = groupStopper(child);
    const dog = watchdog(spec, stopper.stop);
    const splitters = wireOutput(child, spec, dog);
    wireInput(child, spec, stopper);
    settleWhenDone(child, { started, stopper, dog, splitters }, resolve, reject);
  });
}

function spawnInOwnGroup(cmd: string, args: string[], spec: ExecSpec): ChildProcessWithoutNullStreams {
  // PWD is the worker's otherwise, and some CLIs (OpenCode) take it for their working directory.
  const env = { ...spec.env, PWD: spec.cwd, ...(spec.tag ? { [TAG_ENV]: spec.tag } : {}) };
  return spawn(cmd, args, { cwd: spec.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Why the run was stopped ('exit' while nothing stopped it), and the SIGTERM, grace, SIGKILL of its group. */
interface GroupStopper {
  readonly end: ExecEnd;
  stop(why: ExecEnd): void;
  cancelKill(): void;
}

function groupStopper(child: ChildProcessWithoutNullStreams): GroupStopper {
  let end: ExecEnd = 'exit';
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: ExecEnd) => {
    if (end !== 'exit' || child.exitCode !== null || child.signalCode !== null) return;
    end = why;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  return {
    get end() {
      return end;
    },
    stop,
    cancelKill: () => clearTimeout(killTimer),
  };
}

function wireOutput(child: ChildProcessWithoutNullStreams, spec: ExecSpec, dog: Watchdog): LineSplitter[] {
  return (['stdout', 'stderr'] as const).map((stream) => {
    const s = lineSplitter((line) => spec.onLine?.(stream, line));
    child[stream].on('data', (chunk: Buffer) => {
      dog.touch();
      s.push(chunk);
    });
    return s;
  });
}

function wireInput(child: ChildProcessWithoutNullStreams, spec: ExecSpec, stopper: GroupStopper): void {
  child.stdin.on('error', () => undefined); // the process may exit without reading its input
  if (spec.keepStdinOpen) child.stdin.write(spec.stdin ?? '');
  else child.stdin.end(spec.stdin ?? '');
  spec.onStart?.({
    write: (text) => {
      if (child.stdin.writable) child.stdin.write(text);
    },
    closeStdin: () => child.stdin.end(),
    finish: () => stopper.stop('finished'),
  });
}

interface RunState {
  started: number;
  stopper: GroupStopper;
  dog: Watchdog;
  splitters: LineSplitter[];
}

function settleWhenDone(
  child: ChildProcessWithoutNullStreams,
  run: RunState,
  resolve: (result: ExecResult) => void,
  reject: (err: Error) => void,
): void {
  let settled = false;
  const finish = (code: number | null, signal: NodeJS.Signals | null) => {
    if (settled) return;
    settled = true;
    run.dog.dispose();
    run.stopper.cancelKill();
    // Whatever the agent left running in its group dies with it.
    killGroup(child.pid, 'SIGKILL');
    for (const s of run.splitters) s.end();
    // A grandchild that left the group may still hold the pipes; let go of them.
    child.stdout.destroy();
    child.stderr.destroy();
    resolve({ exitCode: code, signal, end: run.stopper.end, durationMs: Date.now() - run.started });
  };
  child.on('error', (err) => {
    if (settled) return;
    settled = true;
    run.dog.dispose();
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
