import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '../../shared/errors.js';
import { lineSplitter } from '../line-splitter.js';
import { type Watchdog, watchdog } from '../watchdog.js';
import { type ExecEnd, type ExecResult, type ExecSpec, KILL_GRACE_MS, type Runtime } from '../runtime.js';
import type { Engine, RunningExec } from './engine.js';
import { AGENT_USER } from './image.js';

const QUIESCE_TRIES = 20;
/** After the kill, how long to wait for the exec to report its end before giving up on the engine. */
const END_WAIT_MS = 5_000;

/** One job's container on its engine. */
interface JobContainer {
  engine: Engine;
  container: string;
  /** The container's OOM kills as last read: the cgroup counts them for the container's whole life. */
  seen: OomCount;
}

/** Kept with the container (its pool slot), so every run in it compares with the same count. */
export interface OomCount {
  oomKills: number;
}

/**
 * Runs processes in one job's container, as the image's non-root user. The container is the job's alone, so
 * stopping a run means signalling every process of that user in it (the container's root-owned main process
 * stays); whatever the agent started goes with it.
 */
export function containerRuntime(engine: Engine, container: string, seen: OomCount = { oomKills: 0 }): Runtime {
  const target: JobContainer = { engine, container, seen };
  return {
    kind: 'docker',
    exec: (spec) => exec(target, spec),
    async killTagged() {
      await quiesce(target);
      return 0;
    },
  };
}

const shortId = (container: string) => container.slice(0, 12);

const signalAll = ({ engine, container }: JobContainer, signal: 'TERM' | 'KILL') =>
  engine.run(container, ['kill', `-${signal}`, '--', '-1'], AGENT_USER).catch(() => null);

/** pgrep says 1 for none; anything else (found, or the probe could not run) is not "none". */
const noneLeft = async ({ engine, container }: JobContainer) =>
  (await engine.run(container, ['pgrep', '-u', AGENT_USER], '0').catch(() => null)) === 1;

/**
 * Ends every process of the agent's user in the container and makes sure none is left: like a process
 * group on the host, whatever a run started ends with it. Fails closed.
 */
async function quiesce(target: JobContainer): Promise<void> {
  for (let i = 0; i < QUIESCE_TRIES; i++) {
    if (await noneLeft(target)) return;
    await signalAll(target, 'KILL');
    await delay(50 * (i + 1));
  }
  if (await target.engine.isRunning(target.container)) {
    throw new AppError('AgentFailed', `processes of the agent in container ${shortId(target.container)} would not stop`);
  }
}

async function exec(target: JobContainer, spec: ExecSpec): Promise<ExecResult> {
  const started = Date.now();
  const run = await startAgentExec(target, spec);
  const stopper = escalatingStop(target);
  const dog = watchdog(spec, stopper.stop);
  wireOutput(run, spec, dog);
  spec.onStart?.({ write: run.write, closeStdin: run.closeStdin, finish: () => stopper.stop('finished') });
  const exitCode = await exitOrContainerGone(target, run);
  dog.dispose();
  if (stopper.stopping) await Promise.race([stopper.stopping, delay(END_WAIT_MS)]);
  // Like a process group on the host, whatever the run started ends with it.
  await quiesce(target);
  await failIfKilledFromOutside(target, stopper, exitCode);
  return { exitCode, signal: null, end: stopper.end, durationMs: Date.now() - started };
}

async function startAgentExec({ engine, container }: JobContainer, spec: ExecSpec): Promise<RunningExec> {
  return engine
    .exec({
      container,
      argv: spec.argv,
      cwd: spec.cwd,
      env: spec.env,
      user: AGENT_USER,
      ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
      ...(spec.keepStdinOpen ? { keepStdinOpen: true } : {}),
    })
    .catch((err: { statusCode?: number; message?: string }) => {
      // 404: removed, 409: not running; either way the attempt fails and a retry gets a new container.
      if (err.statusCode === 404 || err.statusCode === 409) {
        throw new AppError('AgentFailed', `the job's container ${shortId(container)} is gone or stopped (killed from outside?)`);
      }
      throw err;
    });
}

/** Why the run was stopped ('exit' while nothing stopped it), and the TERM, grace, KILL of the stopping. */
interface Stopper {
  readonly end: ExecEnd;
  readonly stopping: Promise<void> | undefined;
  stop(why: ExecEnd): void;
}

function escalatingStop(target: JobContainer): Stopper {
  let end: ExecEnd = 'exit';
  let stopping: Promise<void> | undefined;
  const stop = (why: ExecEnd) => {
    if (end !== 'exit') return;
    end = why;
    stopping = (async () => {
      await signalAll(target, 'TERM');
      await delay(KILL_GRACE_MS);
      await signalAll(target, 'KILL');
    })();
  };
  return {
    get end() {
      return end;
    },
    get stopping() {
      return stopping;
    },
    stop,
  };
}

function wireOutput(run: RunningExec, spec: ExecSpec, dog: Watchdog): void {
  for (const [name, stream] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ] as const) {
    const split = lineSplitter((line) => spec.onLine?.(name, line));
    stream.on('data', (chunk: Buffer) => {
      dog.touch();
      split.push(chunk);
    });
    stream.on('end', () => split.end());
  }
}

/** The exit code, or null when the container stopped first. */
async function exitOrContainerGone({ engine, container }: JobContainer, run: RunningExec): Promise<number | null> {
  // A container killed from outside may leave the exec stream hanging: watch the container too.
  let ended = false;
  const exitCode = await Promise.race([
    run.done.finally(() => (ended = true)),
    (async () => {
      while (!ended && (await engine.isRunning(container))) await delay(1_000);
      return null;
    })(),
  ]);
  ended = true;
  return exitCode;
}

/** A run that was not stopped but ended with its container gone, or at the memory limit, is a failure. */
async function failIfKilledFromOutside(
  { engine, container, seen }: JobContainer,
  stopper: Pick<Stopper, 'end'>,
  exitCode: number | null,
): Promise<void> {
  if (stopper.end === 'exit' && !(await engine.isRunning(container))) {
    throw new AppError('AgentFailed', `the job's container ${shortId(container)} stopped during the run (killed from outside?)`);
  }
  if (stopper.end !== 'exit' || !exitCode) return;
  // Read after any failed run, not only a SIGKILLed one, so a kill of one of its processes is not blamed on a later run.
  const before = seen.oomKills;
  // A probe that fails leaves the run's own result standing: the exit code is still reported.
  seen.oomKills = await engine.oomKills(container).catch(() => before);
  if (exitCode === 137 && seen.oomKills > before) {
    throw new AppError('AgentResourceLimit', "the agent ran out of memory: killed at the container's memory limit (docker.memory)");
  }
}
