import type { Command } from 'commander';
import { withClient } from '../context.js';
import { printJson, say } from '../output.js';

export function registerSay(program: Command): void {
  program
    .command('say <job> <text...>')
    .description('send the running agent a message; it gets it at its next step (signal "message")')
    .option('--json', 'print JSON')
    .action(async (jobId: string, words: string[], flags: { json?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        await client.message(jobId, words.join(' '));
        if (flags.json) printJson({ jobId, sent: true });
        else say(`sent to ${jobId}; \`drover status ${jobId}\` shows when it is delivered`);
      });
    });
}
