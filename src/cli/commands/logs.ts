import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import type { DroverClient } from '../../client.js';
import type { LogHost } from '../../client/remote-log.js';
import type { DroverConfig } from '../../config/schema.js';
import { dataPaths } from '../../config/paths.js';
import { AppError, failureTypeOf } from '../../shared/errors.js';
import { jobIdProblem } from '../../shared/ids.js';
import { configFrom } from '../context.js';
import { note } from '../output.js';
import { renderLogLine } from '../render-log.js';

type Print = (text: string) => void;

export function registerLogs(program: Command): void {
  program
    .command('logs <job>')
    .description("print a job's log (agent output, validation, git), from this data dir or through the worker that ran the job")
    .option('-f, --follow', 'keep printing until the job ends')
    .option('--json', 'print the raw JSON lines (each agent line with the events Drover read in it)')
    .action(async (jobId: string, flags: { follow?: boolean; json?: boolean }, cmd: Command) => {
      const problem = jobIdProblem(jobId);
      if (problem) throw new AppError('InvalidInput', `job id "${jobId}": ${problem}`);
      const config = await configFrom(cmd);
      const render = (line: string) => (flags.json ? [line] : renderLogLine(line));
      const print: Print = (text) => {
        for (const line of text.split('\n').filter(Boolean)) {
          for (const out of render(line)) process.stdout.write(`${out}\n`);
        }
      };
      const file = dataPaths(config.dataDir).jobLog(jobId);
      // The worker that ran the job is this machine: no need to ask Temporal for what is on disk here.
      if (existsSync(file)) return printLocal(config, jobId, file, !!flags.follow, print);
      const { DroverClient } = await import('../../client.js');
      const client = await DroverClient.connect(config);
      try {
        await (flags.follow ? followRemote(client, jobId, print) : printRemote(client, jobId, print));
      } finally {
        await client.close();
      }
    });
}

async function printLocal(config: DroverConfig, jobId: string, file: string, follow: boolean, print: Print): Promise<void> {
  let offset = printFrom(file, 0, print);
  if (!follow) return;
  const { DroverClient } = await import('../../client.js');
  const client = await DroverClient.connect(config);
  try {
    for (;;) {
      const running = (await client.status(jobId)).execution === 'RUNNING';
      offset = printFrom(file, offset, print);
      if (!running) return;
      await delay(500);
    }
  } finally {
    await client.close();
  }
}

/** Prints complete lines from `offset` on and returns the new offset. */
function printFrom(file: string, offset: number, print: Print): number {
  if (!existsSync(file)) return offset;
  const size = statSync(file).size;
  if (size <= offset) return offset;
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(size - offset);
  readSync(fd, buf, 0, buf.length, offset);
  closeSync(fd);
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n') + 1;
  print(text.slice(0, end));
  return offset + Buffer.byteLength(text.slice(0, end));
}

async function printRemote(client: DroverClient, jobId: string, print: Print): Promise<void> {
  const remote = await import('../../client/remote-log.js');
  const where = await remote.locateLog(client, jobId);
  if (!where.host) throw remote.noWorkerYet(jobId, where);
  await remote.checkHostRunning(client, jobId, where.host);
  const { exists } = await remote.drainRemote(client, jobId, where.host, 0, print);
  if (!exists) throw new AppError('JobNotFound', `worker ${where.host.worker} has no log for ${jobId} (yet)`);
}

/**
 * Follows the log through the worker holding the job until the job ends. A job that starts over on another
 * worker has its log there, from the start; a worker that is gone while the job runs is waited for (the job
 * itself moves on once its pickup timeout passes).
 */
async function followRemote(client: DroverClient, jobId: string, print: Print): Promise<void> {
  const remote = await import('../../client/remote-log.js');
  let host: LogHost | undefined;
  let offset = 0;
  let said = '';
  const sayOnce = (text: string) => {
    if (text !== said) note(`drover: ${text}`);
    said = text;
  };
  for (;;) {
    const where = await remote.locateLog(client, jobId);
    if (where.host && where.host.worker !== host?.worker) {
      host = where.host;
      offset = 0;
    }
    if (!host) {
      if (!where.running) throw remote.noWorkerYet(jobId, where);
      sayOnce(`job ${jobId} has no worker yet (${where.phase}); waiting`);
    } else {
      try {
        // While the job runs, the worker waits for new lines before it answers: one read per wait, not per second.
        const waitMs = where.running ? remote.FOLLOW_WAIT_MS : 0;
        offset = (await remote.drainRemote(client, jobId, host, offset, print, waitMs)).offset;
      } catch (err) {
        if (!where.running || failureTypeOf(err) !== 'WorkerUnavailable') throw err;
        sayOnce(`worker ${host.worker} is not running (no poller on ${host.hostQueue}); waiting while the job runs`);
      }
    }
    if (!where.running) return;
    await delay(host ? 250 : 1_000);
  }
}
