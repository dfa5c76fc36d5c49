import type { Command } from 'commander';
import { configFrom } from '../context.js';
import { note, say } from '../output.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker against TEMPORAL_ADDRESS (a dev server, a cluster or Temporal Cloud)')
    .option('--worker-id <id>', 'stable worker id (default: kept in the data dir)')
    .action(async (flags: { workerId?: string }, cmd: Command) => {
      const [{ startWorker }, { describeChecks }, { untilSignal }, config] = await Promise.all([
        import('../../worker.js'),
        import('../../worker/backends.js'),
        import('./serve.js'),
        configFrom(cmd),
      ]);
      const worker = await startWorker({ ...config, ...(flags.workerId ? { workerId: flags.workerId } : {}) });
      say(`worker ${worker.workerId} polling ${config.taskQueue} and ${worker.hostQueue} at ${config.temporal.address}`);
      say(`backends: ${describeChecks(worker.backends)}`);
      say(
        `docker: ${worker.docker.pool ? `${worker.docker.pool.defaultImage}, ${config.docker.poolSize} warm, network ${config.docker.network}` : `unavailable (${worker.docker.problem})`}`,
      );
      const sig = await Promise.race([untilSignal(), worker.done.then(() => 'worker stopped')]);
      note(`drover: stopping worker (${sig}); running activities get ${config.worker.shutdownGrace}`);
      await worker.shutdown();
    });
}
