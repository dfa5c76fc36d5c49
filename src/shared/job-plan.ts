import type { CacheSpec, JobDefaults, JobInput, Step } from './schemas.js';

/** What a job runs besides its agent, after the defaults of its repository and worker are applied. */
export interface JobPlan {
  setup: Step[];
  validate: Step[];
  teardown: Step[];
  cache: CacheSpec[];
}

/**
 * Each field on its own: the job's when it names any, else the defaults (.drover.yml over the worker's
 * config, merged by the worker). A job overrides a repository's setup with its own (`--setup true` for none).
 */
export function jobPlan(job: JobInput, defaults: JobDefaults | undefined): JobPlan {
  const pick = <T>(own: T[] | undefined, fallback: T[] | undefined): T[] => (own && own.length > 0 ? own : (fallback ?? []));
  return {
    setup: pick(job.setup, defaults?.setup),
    validate: pick(job.validate, defaults?.validate),
    teardown: pick(job.teardown, defaults?.teardown),
    cache: pick(job.cache, defaults?.cache),
  };
}

/** Repository defaults over worker defaults, field by field. */
export function mergeDefaults(repo: JobDefaults | undefined, worker: JobDefaults | undefined): JobDefaults {
  const out: JobDefaults = {};
  for (const key of ['setup', 'validate', 'teardown', 'cache'] as const) {
    const value = repo?.[key]?.length ? repo[key] : worker?.[key];
    if (value?.length) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
