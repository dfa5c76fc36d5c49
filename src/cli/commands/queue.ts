import type { Command } from 'commander';
import type { QueueEntryView } from '../../shared/schemas.js';
import { withClient } from '../context.js';
import { integrationLine, printJson, say } from '../output.js';

export function registerQueue(program: Command): void {
  program
    .command('queue <repo>')
    .description("show a repository's merge queue: queued, running, integrated, sent back")
    .option('--into <branch>', 'the target branch', 'main')
    .option('--json', 'print JSON')
    .action(async (repo: string, flags: { into: string; json?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        const view = await client.queue(repo, flags.into);
        if (flags.json) return printJson(view);
        if (view.entries.length === 0) return say(`the merge queue ${view.repo} → ${view.into} is empty`);
        say(`merge queue ${view.repo} → ${view.into}${view.running ? '' : ' (idle, ended)'}`);
        for (const e of view.entries) say(row(e));
      });
    });
}

export function registerIntegrate(program: Command): void {
  program
    .command('integrate <job>')
    .description("land a finished job's commit on a branch through its repository's merge queue")
    .requiredOption('--into <branch>', 'the target branch, e.g. main')
    .option('--merge', 'land it as a merge commit rather than rebased')
    .option('--json', 'print JSON')
    .action(async (jobId: string, flags: { into: string; merge?: boolean; json?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        const out = await client.integrate(jobId, { into: flags.into, mode: flags.merge ? 'merge' : 'rebase' });
        if (flags.json) return printJson({ jobId, queued: true, ...out });
        say(
          `queued ${jobId} (${out.commit.slice(0, 12)}) for ${flags.into}; follow it with \`drover queue ${out.repo} --into ${flags.into}\``,
        );
        say(integrationLine({ into: flags.into, status: 'queued', sentBack: 0 }));
      });
    });
}

function row(e: QueueEntryView): string {
  const status =
    e.status === 'running' && e.step ? `running (${e.step}${(e.tries ?? 1) > 1 ? `, try ${e.tries}` : ''})` : e.status.replace('_', ' ');
  const landed = e.integrated ? ` → ${e.integrated.slice(0, 12)}` : '';
  return `${e.jobId.padEnd(24)}  ${status.padEnd(22)}  ${e.commit.slice(0, 12)}${landed}${e.reason ? `  ${e.reason}` : ''}`;
}
