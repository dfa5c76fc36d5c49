import type { Command } from 'commander';
import { configFrom } from '../context.js';
import { note, say } from '../output.js';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run a Temporal dev server (with UI) and a worker in one process; jobs persist in the data dir')
    .option('--port <port>', 'Temporal frontend port', (v) => Number(v))
    .option('--ui-port <port>', 'Temporal UI port', (v) => Number(v))
    .option('--headless', 'no UI')
    .action(async (flags: { port?: number; uiPort?: number; headless?: boolean }, cmd: Command) => {
      const [{ describeChecks }, { startEmbedded, untilSignal }, base] = await Promise.all([
        import('../../worker/backends.js'),
        import('./serve.js'),
        configFrom(cmd),
      ]);
      const config = { ...base, dev: { port: flags.port ?? base.dev.port, uiPort: flags.uiPort ?? base.dev.uiPort } };
      const env = await startEmbedded(config, { headless: flags.headless ?? false });
      say(
        [
          `Temporal server  ${env.config.temporal.address}  (namespace ${env.config.temporal.namespace})`,
          ...(env.config.ui.url ? [`Temporal UI      ${env.config.ui.url}`] : []),
          env.worker
            ? `Worker           ${env.worker.workerId} on queues ${env.config.taskQueue} and ${env.worker.hostQueue}`
            : 'Worker           (the one already running on this data dir)',
          ...(env.worker ? [`Backends         ${describeChecks(env.worker.backends)}`] : []),
          ...(env.worker
            ? [
                `Docker           ${env.worker.docker.pool ? `${env.worker.docker.pool.defaultImage} (submit --runtime docker)` : `not used: ${env.worker.docker.problem}`}`,
              ]
            : []),
          `Data dir         ${env.config.dataDir}`,
          '',
          'Submit a job from another shell, for example:',
          `  drover submit --repo . --prompt "..." --agent command --agent-command "your-agent" --validate "npm test" --wait`,
          'Press Ctrl-C to stop.',
        ].join('\n'),
      );
      const sig = await Promise.race([untilSignal(), ...(env.worker ? [env.worker.done.then(() => 'worker stopped')] : [])]);
      note(`drover: stopping (${sig})`);
      await env.stop();
    });
}
