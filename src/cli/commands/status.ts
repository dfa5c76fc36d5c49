import type { Command } from 'commander';
import { renderBestOf } from '../attempts-output.js';
import { withClient } from '../context.js';
import { printJson, renderReport, say } from '../output.js';
import { renderSubtasks } from '../subtasks-output.js';

export function registerStatus(program: Command): void {
  program
    .command('status <job>')
    .description('show a job: phase, pending question, progress, UI link')
    .option('--json', 'print JSON')
    .action(async (jobId: string, flags: { json?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        const report = await client.status(jobId);
        if (flags.json) printJson(report);
        else say(renderReport(report) + renderBestOf(report) + (await renderSubtasks(client, report)));
      });
    });
}
