import { setTimeout as delay } from 'node:timers/promises';
import type { DroverClient, JobReport } from '../client.js';
import { note } from './output.js';

/** Prints each change of phase, progress and pending question until the job closes; returns the final report. */
export async function followJob(client: DroverClient, jobId: string, intervalMs = 1_000): Promise<JobReport> {
  let last = '';
  for (;;) {
    const r = await client.status(jobId);
    const line = describe(r);
    if (line !== last) {
      note(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
      last = line;
    }
    if (r.execution !== 'RUNNING') return r;
    await delay(intervalMs);
  }
}

function describe(r: JobReport): string {
  if (r.status?.pendingQuestion) return `waiting for an answer: ${r.status.pendingQuestion}  (drover answer ${r.jobId} "<text>")`;
  const progress = r.activity?.progress ? ` - ${r.activity.progress}` : '';
  const retry = r.activity && r.activity.attempt > 1 ? ` (attempt ${r.activity.attempt})` : '';
  return `${r.phase}${retry}${progress}${r.note ? ` (${r.note})` : ''}`;
}
