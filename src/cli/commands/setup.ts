import type { Command } from 'commander';
import { DURATION_PATTERN, durationMs } from '../../shared/duration.js';
import { AppError } from '../../shared/errors.js';
import { withClient } from '../context.js';
import { printJson, say } from '../output.js';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description("prepare a namespace of any Temporal cluster for Drover: create it if missing, register Drover's search attributes")
    .option('--retention <duration>', 'minimum retention of finished jobs, e.g. 7d or 72h', '7d')
    .option('--no-create', 'fail rather than create a missing namespace')
    .option('--json', 'print JSON')
    .action(async (flags: { retention: string; create: boolean; json?: boolean }, cmd: Command) => {
      if (!DURATION_PATTERN.test(flags.retention))
        throw new AppError('InvalidInput', `--retention: not a duration: ${flags.retention} (use e.g. 7d, 72h)`);
      const minRetentionSeconds = Math.round(durationMs(flags.retention) / 1000);
      // The server's own floor; below it the answer would be a raw InvalidArgument.
      if (minRetentionSeconds < 86_400)
        throw new AppError('InvalidInput', `--retention: at least 1d (Temporal keeps closed workflows a day or more)`);
      await withClient(cmd, async (client, config) => {
        const { ensureNamespaceSetup } = await import('../../temporal/namespace-setup.js');
        const report = await ensureNamespaceSetup(client.connection, config.temporal.namespace, {
          create: flags.create,
          minRetentionSeconds,
        });
        if (flags.json) return printJson({ address: config.temporal.address, ...report });
        say(
          [
            `namespace ${report.namespace} at ${config.temporal.address}: ${report.created ? 'created' : 'exists'}, retention ${report.retentionDays} days`,
            `search attributes: ${report.searchAttributesAdded.length ? `added ${report.searchAttributesAdded.join(', ')}` : 'all present'}`,
          ].join('\n'),
        );
      });
    });
}
