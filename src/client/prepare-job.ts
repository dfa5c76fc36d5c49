/** A job as the client submits it: parsed, its local repository found and checked, the policy applied, an id given. */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { oneLine } from '../config/load.js';
import { checkLocalOwner, checkRepoAllowed, checkRuntimeEnv, policyFrom } from '../config/policy.js';
import type { DroverConfig } from '../config/schema.js';
import { bestOfIdProblem, isBestOf } from '../shared/attempts.js';
import { AppError } from '../shared/errors.js';
import { isLocalRepo } from '../shared/repo-location.js';
import { type JobInput, JobSpec, type JobSpecInput } from '../shared/schemas.js';

/**
 * Parses a job spec, resolves a local repo path and checks it, applies the config's policy (repos.allow,
 * git.protocols, docker.envAllow) as a worker would, and gives the job an id.
 */
export async function prepareJob(spec: JobSpecInput, config: Pick<DroverConfig, 'repos' | 'git' | 'docker'>): Promise<JobInput> {
  const parsed = JobSpec.safeParse(spec);
  if (!parsed.success) throw new AppError('InvalidInput', `invalid job: ${oneLine(parsed.error)}`);
  const job = parsed.data;
  if (job.subtaskOf) throw new AppError('InvalidInput', 'invalid job: subtaskOf: is set only by Drover, on the subtasks a job starts');
  let repo = job.repo;
  if (isLocalRepo(repo)) {
    repo = resolve(repo.replace(/^file:\/\//i, ''));
    if (!existsSync(repo) || !statSync(repo).isDirectory()) throw new AppError('RepoNotFound', `repository path does not exist: ${repo}`);
    checkLocalOwner(repo);
    // Imported here: status, list and answer never need git.
    const { gitFor } = await import('../git/git-for-config.js');
    if (!(await gitFor(config).isGitRepo(repo))) throw new AppError('RepoNotFound', `not a git repository: ${repo}`);
  }
  if (job.include?.length && !isLocalRepo(repo)) {
    throw new AppError('InvalidInput', 'invalid job: include: works only with a local repository (it copies files from its working tree)');
  }
  if (job.select && !isBestOf(job)) throw new AppError('InvalidInput', 'invalid job: select: needs attempts (more than one) or agents');
  const idProblem = job.id && isBestOf(job) ? bestOfIdProblem(job.id) : undefined;
  if (idProblem) throw new AppError('InvalidInput', `invalid job: id: ${idProblem}`);
  const policy = policyFrom(config);
  checkRepoAllowed(repo, policy);
  if (job.runtime?.kind === 'docker') checkRuntimeEnv(job.runtime.env, policy);
  return { ...job, repo, id: job.id ?? newJobId() };
}

export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().slice(0, 10).replace(/-/g, '');
  return `job-${stamp}-${randomBytes(4).toString('hex')}`;
}
