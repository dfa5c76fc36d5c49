import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { AppError } from '../../shared/errors.js';
import { configFrom } from '../context.js';
import { renderLogLine } from '../render-log.js';

export function registerLogs(program: Command): void {
  program
    .command('logs <job>')
    .description("print a job's log (agent output, validation, git); the log lives in the worker's data dir")
    .option('-f, --follow', 'keep printing until the job ends')
    .option('--json', 'print the raw JSON lines (each agent line with the events Drover read in it)')
    .action(async (jobId: string, flags: { follow?: boolean; json?: boolean }, cmd: Command) => {
      const config = await configFrom(cmd);
      const file = dataPaths(config.dataDir).jobLog(jobId);
      if (!flags.follow && !existsSync(file)) {
        throw new AppError('JobNotFound', `no log for ${jobId} at ${file} (logs live in the data dir of the worker that ran the job)`);
      }
      const render = (line: string) => (flags.json ? [line] : renderLogLine(line));
      let offset = printFrom(file, 0, render);
      if (!flags.follow) return;
      const { DroverClient } = await import('../../client.js');
      const client = await DroverClient.connect(config);
      try {
        for (;;) {
          const running = (await client.status(jobId)).execution === 'RUNNING';
          offset = printFrom(file, offset, render);
          if (!running) return;
          await delay(500);
        }
      } finally {
        await client.close();
      }
    });
}

/** Prints complete lines from `offset` on and returns the new offset. */
function printFrom(file: string, offset: number, render: (line: string) => string[]): number {
  if (!existsSync(file)) return offset;
  const size = statSync(file).size;
  if (size <= offset) return offset;
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(size - offset);
  readSync(fd, buf, 0, buf.length, offset);
  closeSync(fd);
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n') + 1;
  for (const line of text.slice(0, end).split('\n').filter(Boolean)) {
    for (const out of render(line)) process.stdout.write(`${out}\n`);
  }
  return offset + Buffer.byteLength(text.slice(0, end));
}
