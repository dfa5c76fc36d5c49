import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface JobLogEntry {
  source: 'agent' | 'validate' | 'critic' | 'git' | 'drover';
  stream?: 'stdout' | 'stderr';
  type?: string;
  text: string;
  [key: string]: unknown;
}

/**
 * The job's log: JSON lines under the data dir. Logs never go into workflow history. Appends are synchronous
 * so lines keep their order and survive a worker crash right after they were printed.
 */
export function openJobLog(path: string): (entry: JobLogEntry) => void {
  mkdirSync(dirname(path), { recursive: true });
  return (entry) => appendFileSync(path, `${JSON.stringify({ ts: new Date().toISOString(), ...entry })}\n`);
}
