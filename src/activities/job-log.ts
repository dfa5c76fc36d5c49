import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactDeep, type Redact } from './redact.js';

export interface JobLogEntry {
  source: 'agent' | 'setup' | 'validate' | 'teardown' | 'critic' | 'git' | 'drover' | 'cache';
  stream?: 'stdout' | 'stderr';
  type?: string;
  text: string;
  [key: string]: unknown;
}

export type JobLog = (entry: JobLogEntry) => void;

/**
 * The job's log: JSON lines under the data dir. Logs never go into workflow history, but they are read by
 * whoever runs `drover logs`, so the worker's secrets are redacted from every line before it is written.
 * Appends are synchronous so lines keep their order and survive a worker crash right after they were printed.
 */
export function openJobLog(path: string, redact: Redact): JobLog {
  mkdirSync(dirname(path), { recursive: true });
  return (entry) => appendFileSync(path, `${JSON.stringify(redactDeep({ ts: new Date().toISOString(), ...entry }, redact))}\n`);
}
