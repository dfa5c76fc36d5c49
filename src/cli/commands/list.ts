import type { Command } from 'commander';
import { JOB_PHASES } from '../../shared/phases.js';
import { AppError } from '../../shared/errors.js';
import { withClient } from '../context.js';
import { printJson, say } from '../output.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list jobs, newest first')
    .option('--status <phase>', `only jobs in this phase (${JOB_PHASES.join(', ')})`)
    .option('--repo <path|url>', 'only jobs on this repository')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (flags: { status?: string; repo?: string; limit: string; json?: boolean }, cmd: Command) => {
      if (flags.status && !(JOB_PHASES as readonly string[]).includes(flags.status)) {
        throw new AppError('InvalidInput', `unknown status "${flags.status}" (known: ${JOB_PHASES.join(', ')})`);
      }
      await withClient(cmd, async (client) => {
        const jobs = await client.list({
          ...(flags.status ? { status: flags.status } : {}),
          ...(flags.repo ? { repo: flags.repo } : {}),
          limit: Number(flags.limit) || 50,
        });
        if (flags.json) return printJson(jobs);
        if (jobs.length === 0) return say('no jobs');
        const rows = jobs.map((j) => [j.jobId, j.phase, j.repo, j.agent, j.startTime.slice(0, 19).replace('T', ' ')]);
        const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), 5));
        const line = (r: string[]) => r.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ');
        say(line(['JOB', 'PHASE', 'REPO', 'AGENT', 'STARTED']));
        for (const [i, r] of rows.entries()) {
          say(line(r));
          const q = jobs[i]?.question;
          if (q) say(`  question: ${q}`);
        }
      });
    });
}
