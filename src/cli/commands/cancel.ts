import type { Command } from 'commander';
import { withClient } from '../context.js';
import { followJob } from '../follow.js';
import { printJson, say } from '../output.js';

export function registerCancel(program: Command): void {
  program
    .command('cancel <job>')
    .description('cancel a job: the agent is stopped and the worktree removed')
    .option('--wait', 'wait until the job has stopped')
    .option('--json', 'print JSON')
    .action(async (jobId: string, flags: { wait?: boolean; json?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        await client.cancel(jobId);
        const report = flags.wait ? await followJob(client, jobId) : undefined;
        if (flags.json) printJson({ jobId, cancelRequested: true, ...(report ? { execution: report.execution } : {}) });
        else say(report ? `${jobId}: ${report.execution.toLowerCase()}` : `cancellation requested for ${jobId}`);
      });
    });
}
