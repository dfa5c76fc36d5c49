import type { Command } from 'commander';
import type { JobReport } from '../../client.js';
import { ERROR_POLICY, EXIT, isErrorType } from '../../shared/errors.js';
import { renderBestOf } from '../attempts-output.js';
import { withClient } from '../context.js';
import { followJob } from '../follow.js';
import { printJson, renderReport, say } from '../output.js';

/** 0 only for a job that succeeded; the error table decides for failures. */
export function exitCodeForReport(r: JobReport): number {
  if (r.result) {
    if (r.result.status === 'succeeded') return EXIT.ok;
    // A result's failure type decides too: a spent budget exits 7, like a thrown one would.
    const type = r.result.failure?.type;
    return isErrorType(type) ? ERROR_POLICY[type].exitCode : EXIT.failed;
  }
  if (r.execution === 'CANCELLED') return EXIT.cancelled;
  if (r.failure && isErrorType(r.failure.type)) return ERROR_POLICY[r.failure.type].exitCode;
  return EXIT.failed;
}

export function registerResult(program: Command): void {
  program
    .command('result <job>')
    .description('wait for a job to end and print its result; exit 0 only if it succeeded')
    .option('--json', 'print JSON')
    .action(async (jobId: string, flags: { json?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        const report = await followJob(client, jobId, 2_000);
        if (flags.json) printJson(report);
        else say(renderReport(report) + renderBestOf(report));
        process.exitCode = exitCodeForReport(report);
      });
    });
}
