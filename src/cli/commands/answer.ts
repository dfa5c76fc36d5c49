import type { Command } from 'commander';
import { withClient } from '../context.js';
import { printJson, say } from '../output.js';

export function registerAnswer(program: Command): void {
  program
    .command('answer <job> <text...>')
    .description("answer a job's pending question; the agent then resumes")
    .option('--json', 'print JSON')
    .action(async (jobId: string, words: string[], flags: { json?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        await client.answer(jobId, words.join(' '));
        if (flags.json) printJson({ jobId, answered: true });
        else say(`answered ${jobId}; the agent resumes`);
      });
    });
}
