import type { Command } from 'commander';
import type { DroverConfig } from '../../config/schema.js';
import { DURATION_PATTERN, durationMs } from '../../shared/duration.js';
import { AppError, EXIT } from '../../shared/errors.js';
import type { DroverWorker } from '../../worker.js';
import { configFrom } from '../context.js';
import { note, say } from '../output.js';

interface WorkerFlags {
  workerId?: string;
  drainTimeout?: string;
  metrics?: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker against TEMPORAL_ADDRESS (a dev server, a cluster or Temporal Cloud)')
    .option('--worker-id <id>', 'stable worker id (default: kept in the data dir)')
    .option('--drain-timeout <duration>', 'on SIGTERM or Ctrl-C, how long held jobs may take before they are handed back (default 10m)')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://<host:port>/metrics')
    .action(async (flags: WorkerFlags, cmd: Command) => {
      if (flags.drainTimeout && !DURATION_PATTERN.test(flags.drainTimeout)) {
        throw new AppError('InvalidInput', `--drain-timeout: not a duration: ${flags.drainTimeout} (use e.g. 90s, 10m)`);
      }
      const [{ startWorker, installRuntime }, { describeChecks }, base] = await Promise.all([
        import('../../worker.js'),
        import('../../worker/backends.js'),
        configFrom(cmd),
      ]);
      const config = withFlags(base, flags);
      // Listening before the worker says it polls: a SIGTERM sent on that line must drain, not kill.
      const signals = watchSignals();
      installRuntime('WARN', config.worker.metrics);
      const worker = await startWorker(config);
      signals.onThird(() => note(`drover: worker ${worker.workerId} exits now (a third signal)`));
      say(`worker ${worker.workerId} polling ${config.taskQueue} and ${worker.hostQueue} at ${config.temporal.address}`);
      say(`backends: ${describeChecks(worker.backends)}`);
      say(
        `docker: ${worker.docker.pool ? `${worker.docker.pool.defaultImage}, ${config.docker.poolSize} warm, network ${config.docker.network}` : `unavailable (${worker.docker.problem})`}`,
      );
      if (config.worker.metrics) say(`metrics: http://${config.worker.metrics}/metrics`);
      await runUntilDrained(worker, config, signals);
    });
}

function withFlags(config: DroverConfig, flags: WorkerFlags): DroverConfig {
  return {
    ...config,
    ...(flags.workerId ? { workerId: flags.workerId } : {}),
    worker: {
      ...config.worker,
      ...(flags.drainTimeout ? { drainTimeout: flags.drainTimeout } : {}),
      ...(flags.metrics ? { metrics: flags.metrics } : {}),
    },
  };
}

interface SignalWatch {
  /** The first SIGTERM or SIGINT. */
  first: Promise<string>;
  /** Aborted by the second. */
  stopNow: AbortSignal;
  /** What to say before the third exits. */
  onThird(say: () => void): void;
}

/**
 * The first SIGTERM or SIGINT drains: no new jobs, held ones finish or are handed back at the drain timeout.
 * A second one ends the wait and hands back at once; a third exits without waiting for anything (the next
 * start sweeps what that leaves).
 */
function watchSignals(): SignalWatch {
  const stopNow = new AbortController();
  let count = 0;
  let third: () => void = () => undefined;
  const first = new Promise<string>((resolve) => {
    const on = (sig: string) => {
      count += 1;
      if (count === 1) resolve(sig);
      else if (count === 2) stopNow.abort();
      else {
        third();
        process.exit(EXIT.failed);
      }
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return {
    first,
    stopNow: stopNow.signal,
    onThird: (say) => {
      third = say;
    },
  };
}

async function runUntilDrained(worker: DroverWorker, config: DroverConfig, signals: SignalWatch): Promise<void> {
  const ended = worker.done.then(
    () => 'worker stopped',
    () => 'worker failed',
  );
  const sig = await Promise.race([signals.first, ended]);
  if (sig === 'worker stopped' || sig === 'worker failed') {
    // Its Temporal workers ended on their own: still let go of the containers, spares and spawner.
    await worker.shutdown();
    return;
  }
  note(
    `drover: draining worker ${worker.workerId} (${sig}): no new jobs; held jobs get ${config.worker.drainTimeout} (signal again to hand them back now)`,
  );
  const report = await worker.drain(durationMs(config.worker.drainTimeout), signals.stopNow);
  const left = [
    ...(report.handedBack.length ? [`handed back ${report.handedBack.join(', ')}`] : []),
    ...(report.waiting.length ? [`left waiting for an answer ${report.waiting.join(', ')}`] : []),
  ];
  note(`drover: worker ${worker.workerId} stopped after ${Math.round(report.waitedMs / 1000)} s; ${left.join('; ') || 'no job was left'}`);
}
