/** The `drover` command line. Errors are caught once here and mapped to exit codes by the error table. */
import { Command, CommanderError } from 'commander';
import { AppError, exitCodeFor, EXIT } from '../shared/errors.js';
import { registerAnswer } from './commands/answer.js';
import { registerSay } from './commands/say.js';
import { registerCache } from './commands/cache.js';
import { registerCancel } from './commands/cancel.js';
import { registerDemo } from './commands/demo.js';
import { registerDev } from './commands/dev.js';
import { registerImage } from './commands/image.js';
import { registerList } from './commands/list.js';
import { registerLogs } from './commands/logs.js';
import { registerIntegrate, registerQueue } from './commands/queue.js';
import { registerResult } from './commands/result.js';
import { registerSetup } from './commands/setup.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerWorker } from './commands/worker.js';
import { registerWorkers } from './commands/workers.js';

const program = new Command('drover')
  .description('durable coding-agent jobs on Temporal')
  .option('--config <file>', 'YAML config file (default: ~/.config/drover/config.yaml; env DROVER_CONFIG)')
  .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
  .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")')
  .option('--api-key <key>', 'Temporal API key, e.g. for Temporal Cloud; turns TLS on (env TEMPORAL_API_KEY)')
  .option('--tls', 'connect with TLS, trusting the system roots (env TEMPORAL_TLS)')
  .option('--tls-cert <file>', 'client certificate for mTLS (env TEMPORAL_TLS_CERT)')
  .option('--tls-key <file>', 'client key for mTLS (env TEMPORAL_TLS_KEY)')
  .option('--tls-ca <file>', 'CA certificate of the server (env TEMPORAL_TLS_CA)')
  .option('--tls-server-name <name>', 'server name to verify in its certificate (env TEMPORAL_TLS_SERVER_NAME)')
  .option('--ui-url <url>', 'Temporal UI base URL, for job links (env DROVER_UI_URL; drover dev: its own UI)')
  .option('--task-queue <name>', 'shared job queue (env DROVER_TASK_QUEUE, default "drover")')
  .option('--data-dir <dir>', 'mirrors, worktrees, logs, dev db (env DROVER_DATA_DIR)')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

for (const register of [
  registerDev,
  registerDemo,
  registerWorker,
  registerWorkers,
  registerSubmit,
  registerStatus,
  registerAnswer,
  registerSay,
  registerCancel,
  registerList,
  registerLogs,
  registerResult,
  registerIntegrate,
  registerQueue,
  registerSetup,
  registerImage,
  registerCache,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`drover: ${err instanceof AppError ? err.message : describe(err)}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
// Open gRPC handles must not keep a finished command alive.
setImmediate(() => process.exit(process.exitCode ?? 0)).unref();

function describe(err: unknown): string {
  const e = err as Error;
  return e?.message ? e.message.split('\n')[0]! : String(err);
}
