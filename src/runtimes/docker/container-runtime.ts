import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '../../shared/errors.js';
import { lineSplitter } from '../line-splitter.js';
import { watchdog } from '../watchdog.js';
import { type ExecEnd, type ExecResult, type ExecSpec, KILL_GRACE_MS, type Runtime } from '../runtime.js';
import type { Engine } from './engine.js';
import { AGENT_USER } from './image.js';

const QUIESCE_TRIES = 20;
/** After the kill, how long to wait for the exec to report its end before giving up on the engine. */
const END_WAIT_MS = 5_000;

/**
 * Runs processes in one job's container, as the image's non-root user. The container is the job's alone, so
 * stopping a run means signalling every process of that user in it (the container's root-owned main process
 * stays); whatever the agent started goes with it.
 */
export function containerRuntime(engine: Engine, container: string): Runtime {
  const signalAll = (signal: 'TERM' | 'KILL') => engine.run(container, ['kill', `-${signal}`, '--', '-1'], AGENT_USER).catch(() => null);
  /** pgrep says 1 for none; anything else (found, or the probe could not run) is not "none". */
  const noneLeft = async () => (await engine.run(container, ['pgrep', '-u', AGENT_USER], '0').catch(() => null)) === 1;

  /**
   * Ends every process of the agent's user in the container and makes sure none is left: like a process
   * group on the host, whatever a run started ends with it. Fails closed.
   */
  async function quiesce(): Promise<void> {
    for (let i = 0; i < QUIESCE_TRIES; i++) {
      if (await noneLeft()) return;
      await signalAll('KILL');
      await delay(50 * (i + 1));
    }
    if (await engine.isRunning(container)) {
      throw new AppError('AgentFailed', `processes of the agent in container ${container.slice(0, 12)} would not stop`);
    }
  }

  async function exec(spec: ExecSpec): Promise<ExecResult> {
    const started = Date.now();
    const run = await engine
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
          throw new AppError('AgentFailed', `the job's container ${container.slice(0, 12)} is gone or stopped (killed from outside?)`);
        }
        throw err;
      });
    let end: ExecEnd = 'exit';
    let stopping: Promise<void> | undefined;
    const stop = (why: ExecEnd) => {
      if (end !== 'exit') return;
      end = why;
      stopping = (async () => {
        await signalAll('TERM');
        await delay(KILL_GRACE_MS);
        await signalAll('KILL');
      })();
    };
    const dog = watchdog(spec, stop);
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
    spec.onStart?.({ write: run.write, closeStdin: run.closeStdin, finish: () => stop('finished') });

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
    dog.dispose();
    if (stopping) await Promise.race([stopping, delay(END_WAIT_MS)]);
    // Like a process group on the host, whatever the run started ends with it.
    await quiesce();
    if (end === 'exit' && !(await engine.isRunning(container))) {
      throw new AppError('AgentFailed', `the job's container ${container.slice(0, 12)} stopped during the run (killed from outside?)`);
    }
    if (end === 'exit' && exitCode === 137 && (await engine.oomKills(container)) > 0) {
      throw new AppError('AgentResourceLimit', "the agent ran out of memory: killed at the container's memory limit (docker.memory)");
    }
    return { exitCode, signal: null, end, durationMs: Date.now() - started };
  }

  return {
    kind: 'docker',
    exec,
    async killTagged() {
      await quiesce();
      return 0;
    },
  };
}
