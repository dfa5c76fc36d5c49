/** The `drover` command line. Errors are caught once here and mapped to exit codes by the error table. */
import { Command, CommanderError } from 'commander';
import { AppError, exitCodeFor, EXIT } from '../shared/errors.js';
import { registerAnswer } from './commands/answer.js';
import { registerCache } from './commands/cache.js';
import { registerCancel } from './commands/cancel.js';
import { registerDemo } from './commands/demo.js';
import { registerDev } from './commands/dev.js';
import { registerImage } from './commands/image.js';
import { registerList } from './commands/list.js';
import { registerLogs } from './commands/logs.js';
import { registerResult } from './commands/result.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerWorker } from './commands/worker.js';

const program = new Command('drover')
  .description('durable coding-agent jobs on Temporal')
  .option('--config <file>', 'YAML config file (default: ~/.config/drover/config.yaml; env DROVER_CONFIG)')
  .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
  .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")')
  .option('--task-queue <name>', 'shared job queue (env DROVER_TASK_QUEUE, default "drover")')
  .option('--data-dir <dir>', 'mirrors, worktrees, logs, dev db (env DROVER_DATA_DIR)')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

for (const register of [
  registerDev,
  registerDemo,
  registerWorker,
  registerSubmit,
  registerStatus,
  registerAnswer,
  registerCancel,
  registerList,
  registerLogs,
  registerResult,
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
