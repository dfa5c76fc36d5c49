import type { Command } from 'commander';
import { DURATION_PATTERN, durationMs } from '../../shared/duration.js';
import { AppError } from '../../shared/errors.js';
import { withClient } from '../context.js';
import { note, printJson, say } from '../output.js';

export function registerWorkers(program: Command): void {
  program
    .command('workers')
    .description("the job queue's workers, as Temporal sees them: host, runtime, backends, jobs held, last poll")
    .option('--gone-after <duration>', 'call a worker gone after this long without a poll', '90s')
    .option('--json', 'print JSON')
    .action(async (flags: { goneAfter: string; json?: boolean }, cmd: Command) => {
      if (!DURATION_PATTERN.test(flags.goneAfter)) throw new AppError('InvalidInput', `--gone-after: not a duration: ${flags.goneAfter}`);
      await withClient(cmd, async (client, config) => {
        const { listWorkers } = await import('../../client/workers.js');
        const { workers, jobsUnanswered } = await listWorkers(client.client, config.taskQueue, durationMs(flags.goneAfter));
        if (jobsUnanswered) note(`drover: ${jobsUnanswered} running job(s) did not answer in time; the JOBS shown may be fewer`);
        if (flags.json) return printJson(workers);
        if (workers.length === 0) return say(`no workers poll ${config.taskQueue}`);
        const rows = workers.map((w) => [
          w.workerId,
          w.state,
          w.host ?? '?',
          w.runtime.kind === 'docker' ? `docker (${w.runtime.poolSize ?? '?'} warm)` : w.runtime.kind,
          w.backends.join(',') || '-',
          String(w.jobs.length),
          `${Math.round((Date.now() - Date.parse(w.lastSeen)) / 1000)}s ago`,
        ]);
        const head = ['WORKER', 'STATE', 'HOST', 'RUNTIME', 'BACKENDS', 'JOBS', 'LAST SEEN'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const r of [head, ...rows])
          say(
            r
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd(),
          );
      });
    });
}
