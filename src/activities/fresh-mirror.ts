import { mkdirSync } from 'node:fs';
import { checkRepoAllowed } from '../config/policy.js';
import type { ActivityContext } from './deps.js';
import { fetchShared } from './workspace-steps.js';
import { jobCall, repoSource } from './workspace.js';

/**
 * The repository's mirror, fetched by a fetch that started after this call asked, for a step of a job that
 * works in the mirror alone (the merge queue's merge, a best-of winner's push): the repository checked
 * against the worker's policy first.
 */
export async function freshMirror(deps: ActivityContext, jobId: string, repo: string) {
  const log = deps.jobLog(jobId);
  checkRepoAllowed(repo, deps.policy);
  const source = repoSource(deps, repo);
  const call = jobCall(jobId);
  const mirror = deps.paths.mirror(repo);
  mkdirSync(deps.paths.mirrors(), { recursive: true });
  await fetchShared(deps, source, mirror, call, log);
  return { log, source, call, mirror };
}
