/**
 * What a worker lets a job name: repositories (repos.allow), git protocols (git.protocols) and container
 * variables (docker.envAllow). `submit` applies the same checks with its own config, so a mistake is caught
 * before any workflow starts; workers check again with theirs.
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../shared/errors.js';
import { matchesAny } from '../shared/glob.js';
import { isLocalRepo, repoTransport } from '../shared/repo-location.js';
import type { DroverConfig } from './schema.js';

export interface JobPolicy {
  reposAllow: readonly string[] | undefined;
  /** Repositories whose .drover.yml steps may run on the host runtime (in a container they always may). */
  reposTrustConfig: readonly string[];
  protocols: readonly string[];
  envAllow: readonly string[];
}

export const policyFrom = (config: Pick<DroverConfig, 'repos' | 'git' | 'docker'>): JobPolicy => ({
  reposAllow: config.repos.allow,
  reposTrustConfig: config.repos.trustConfig,
  protocols: config.git.protocols,
  envAllow: config.docker.envAllow,
});

/** Throws RepoNotAllowed for a repository outside repos.allow or over a protocol the worker does not enable. */
export function checkRepoAllowed(repo: string, policy: JobPolicy): void {
  const transport = repoTransport(repo);
  if (transport !== 'file' && !policy.protocols.includes(transport)) {
    throw new AppError(
      'RepoNotAllowed',
      `repository ${repo}: protocol ${transport} is not enabled (git.protocols: ${policy.protocols.join(', ') || 'none'})`,
    );
  }
  if (policy.reposAllow && !matchesAny(canonicalRepo(repo), policy.reposAllow)) {
    throw new AppError('RepoNotAllowed', `repository ${repo} is not in repos.allow`);
  }
}

/**
 * Whether a repository's own steps (.drover.yml) may run on the host: there they run as the worker's user,
 * with its environment and credentials, so only for repositories the worker's owner vouches for.
 */
export const repoConfigTrusted = (repo: string, policy: JobPolicy): boolean => matchesAny(canonicalRepo(repo), policy.reposTrustConfig);

/** Throws EnvNotAllowed for container variables docker.envAllow does not list. */
export function checkRuntimeEnv(names: readonly string[], policy: JobPolicy): void {
  const refused = names.filter((n) => !matchesAny(n, policy.envAllow));
  if (refused.length > 0) {
    throw new AppError(
      'EnvNotAllowed',
      `runtime.env ${refused.join(', ')}: not in docker.envAllow, so no worker passes ${refused.length > 1 ? 'them' : 'it'} into a container`,
    );
  }
}

/**
 * A local repository must belong to the user who runs git on it, as git itself demands (safe.directory): git
 * runs the origin's hooks when Drover pushes there, and a directory another user made (a container's) may
 * hold anything.
 */
export function checkLocalOwner(path: string): void {
  const uid = process.getuid?.();
  const owner = statSync(path).uid;
  if (uid !== undefined && owner !== uid) {
    throw new AppError('RepoNotAllowed', `repository ${path} belongs to uid ${owner}, not to this user (uid ${uid})`);
  }
}

/** A local repository is matched by its real path, so a symbolic link cannot lead outside the allowlist. */
function canonicalRepo(repo: string): string {
  if (!isLocalRepo(repo)) return repo;
  const path = resolve(repo.replace(/^file:\/\//i, ''));
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
