import type { Command } from 'commander';
import { renderBestOf } from '../attempts-output.js';
import { configFrom, withClient } from '../context.js';
import { followJob } from '../follow.js';
import type { SubmitFlags } from '../job-args.js';
import { note, printJson, renderReport, say } from '../output.js';
import { exitCodeForReport } from './result.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** How much of the job to run, and how many times: best of N and budgets. */
function scaleOptions(cmd: Command): Command {
  return cmd
    .option('--attempts <n>', 'best of N: run the job as n parallel attempts (1-8) and keep the best one on drover/<id>')
    .option('--agents <kinds>', 'best of N: one attempt per agent, e.g. claude-code,codex,opencode')
    .option('--budget-usd <usd>', 'stop the job once its agents have cost this much, over all runs')
    .option('--budget-tokens <n>', 'stop the job once its agents have used this many tokens (input + output)');
}

export function registerSubmit(program: Command): void {
  scaleOptions(program.command('submit'))
    .description('submit a job; prints its id and UI link')
    .option('-f, --file <job.yaml>', 'job file with the same fields as the flags')
    .option('--repo <path|url>', 'git repository: a local path or a URL')
    .option('--base <ref>', 'base branch, tag or commit (default: the repository HEAD)')
    .option('--prompt <text>', 'what the agent should do')
    .option('--prompt-file <file>', 'read the prompt from a file')
    .option('--agent <kind>', 'agent backend: claude-code, codex, opencode, mini-swe-agent, openhands or command')
    .option('--agent-command <shell>', 'for --agent command: the shell command to run')
    .option('--model <name>', "for CLI agents: the model (default: the worker's setting)")
    .option('--max-turns <n>', 'for CLI agents that support it: cap the turns of one run')
    .option('--runtime <kind>', "where the agent and checks run: host or docker (default: the worker's)")
    .option('--image <name>', "for --runtime docker: the image (default: the worker's)")
    .option(
      '--runtime-env <NAME>',
      "for --runtime docker: a variable the container gets from the worker's environment (repeatable)",
      collect,
    )
    .option('--env <KEY=VALUE>', 'non-secret variable for the agent (repeatable)', collect)
    .option('--setup <shell>', 'setup command run before the agent, e.g. "npm install" (repeatable; default: .drover.yml)', collect)
    .option('--validate <shell>', 'validation command run after the agent (repeatable; default: .drover.yml)', collect)
    .option('--teardown <shell>', 'command run before cleanup, also after a failure (repeatable)', collect)
    .option('--include <glob>', 'for a local repository: ignored files copied from its working tree, e.g. .env.local (repeatable)', collect)
    .option('--critic <shell>', 'critic command: gets the diff on stdin, prints {"approve":bool,"comments":"..."}')
    .option('--integrate <branch>', 'once it succeeds, land the commit on this branch through its merge queue')
    .option('--merge', 'with --integrate: land it as a merge commit rather than rebased')
    .option('--max-revisions <n>', 'agent re-runs after failed validation or critic (default 2)')
    .option('--message <text>', 'commit message (default: the first line of the prompt)')
    .option('--id <job-id>', 'job id, also the workflow id (default: generated)')
    .option('--idle-timeout <duration>', 'stop the agent after this long without output (default 5m)')
    .option('--timeout <duration>', 'stop one agent run after this long (default 1h)')
    .option('--answer-timeout <duration>', 'how long a question waits for an answer (default 24h)')
    .option('--wait', 'follow the job until it ends; exit 0 only if it succeeded')
    .option('--json', 'print JSON')
    .action(async (flags: SubmitFlags & { wait?: boolean; json?: boolean }, cmd: Command) => {
      // Validate before connecting, so bad input gets its own error even when no server runs.
      const [{ prepareJob }, { jobSpecFromFlags }] = await Promise.all([import('../../client.js'), import('../job-args.js')]);
      const spec = await prepareJob(jobSpecFromFlags(flags), await configFrom(cmd));
      await withClient(cmd, async (client) => {
        const { jobId, uiUrl } = await client.submit(spec);
        if (!flags.wait) {
          if (flags.json) printJson({ jobId, uiUrl });
          else
            say(
              `${jobId}\n  ui:     ${uiUrl ?? '(set ui.url or DROVER_UI_URL for a link)'}\n  follow: drover status ${jobId} | drover logs ${jobId} -f`,
            );
          return;
        }
        note(`submitted ${jobId}${uiUrl ? `\n  ui: ${uiUrl}` : ''}`);
        const report = await followJob(client, jobId);
        if (flags.json) printJson(report);
        else say(renderReport(report) + renderBestOf(report));
        process.exitCode = exitCodeForReport(report);
      });
    });
}
