import { AppError } from '../shared/errors.js';
import { parseJobInput, type JobInput } from '../shared/schemas.js';

export function createJobInputActivities() {
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
      return parsed.job;
    },
  };
}
