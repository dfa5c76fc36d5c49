import { AppError } from '../shared/errors.js';
import { parseJobInput, type JobInput, type NotifyEvent } from '../shared/schemas.js';

/**
 * `workerEvents`: the events this worker's notify config subscribes to. They join the parsed job (and so its
 * history) as names only, which is how the workflow knows, deterministically, whether to deliver an event.
 */
export function createJobInputActivities(workerEvents: NotifyEvent[] = []) {
  return {
    /**
     * The workflow's argument parsed with the job schema, as a local activity of the workflow's first task.
     * In the workflow sandbox, zod and the schemas would be evaluated again for every workflow (about 17 ms
     * of CPU each); here they are built once per worker. The parsed job, defaults filled in, is recorded in
     * history, so a later change of a default never changes a running job.
     */
    async checkJobInput(raw: unknown): Promise<JobInput> {
      const parsed = parseJobInput(raw);
      if (!parsed.ok) throw new AppError('InvalidInput', parsed.message);
      return withWorkerEvents(parsed.job, workerEvents);
    },
  };
}

/** A job's own workerEvents are replaced; a job with no notifier at all stays exactly as parsed. */
function withWorkerEvents(job: JobInput, events: NotifyEvent[]): JobInput {
  if (!job.notify && events.length === 0) return job;
  const { notify, ...rest } = job;
  const { workerEvents: _ignored, ...own } = notify ?? {};
  const merged = events.length > 0 ? { ...own, workerEvents: events } : own;
  return Object.keys(merged).length > 0 ? { ...rest, notify: merged } : rest;
}
