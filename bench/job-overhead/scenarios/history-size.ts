/** What a succeeded commit job's history holds: how many events, and its largest payload in bytes. */
import type { DroverClient } from '../../../src/client.js';
import type { BenchRun, BenchScenario } from '../context.js';
import { log } from '../shared.js';

/** The largest payload (input, result, activity inputs and outputs, markers) anywhere in the history. */
async function historySize(c: DroverClient, jobId: string) {
  const history = await c.handle(jobId).fetchHistory();
  const events = history.events ?? [];
  let maxPayloadBytes = 0;
  let maxAt = '';
  const visit = (value: unknown, where: string): void => {
    if (!value || typeof value !== 'object') return;
    const v = value as { data?: unknown; metadata?: Record<string, Uint8Array> };
    if (v.data instanceof Uint8Array && v.metadata) {
      const size = v.data.byteLength + Object.entries(v.metadata).reduce((n, [k, m]) => n + k.length + (m?.byteLength ?? 0), 0);
      if (size > maxPayloadBytes) [maxPayloadBytes, maxAt] = [size, where];
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child, where);
  };
  for (const e of events) visit(e, `event ${e.eventId} (${e.eventType})`);
  return { jobId, events: events.length, maxPayloadBytes, largestPayloadIn: maxAt };
}

async function run(bench: BenchRun): Promise<void> {
  if (!bench.lastCommitJobId) return;
  const history = await historySize(bench.client, bench.lastCommitJobId);
  bench.extras.history = history;
  log(`history of a succeeded job: ${JSON.stringify(history)}`);
}

export const historyOfCommitJob: BenchScenario = { name: 'history size of a commit job', scope: 'run', run };
