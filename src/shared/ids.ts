/** Job ids double as workflow ids and branch names, so they must be safe for both. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const BRANCH_PREFIX = 'drover/';

export function jobIdProblem(id: string): string | undefined {
  if (!JOB_ID_PATTERN.test(id)) return 'use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit';
  if (id.includes('..')) return 'must not contain ".."';
  if (id.endsWith('.lock') || id.endsWith('.')) return 'must not end with "." or ".lock"';
  return undefined;
}

export const branchFor = (jobId: string): string => `${BRANCH_PREFIX}${jobId}`;

/** Where a job's subtasks' base lives in the worker's mirror: outside the refs a fetch prunes, never pushed. */
export const subtaskBaseRef = (jobId: string): string => `refs/drover/subtask-base/${jobId}`;

/** Each worker has a private task queue for the activities that touch its worktrees. */
export const hostQueueFor = (taskQueue: string, workerId: string): string => `${taskQueue}@${workerId}`;

/**
 * Each backend has a queue that only workers with its CLI poll: a job's first activity goes there, so the
 * job lands on a worker that can run its agent (and waits, visibly, while there is none).
 */
export const backendQueueFor = (taskQueue: string, kind: string): string => `${taskQueue}:${kind}`;

/** Jobs that ask for runtime docker land on workers with a Docker engine and the agent image (it has every CLI). */
export const dockerQueueFor = (taskQueue: string): string => `${taskQueue}:docker`;

/** Every worker polls it for job notifications, also while it drains: a delivery never waits behind a checkout. */
export const notifyQueueFor = (taskQueue: string): string => `${taskQueue}:notify`;

/**
 * The subset of git's ref rules (git-check-ref-format) that matters for a base ref given by a user, plus a
 * ban on a leading "-" so a ref can never be read as an option by git.
 */
export function gitRefProblem(ref: string): string | undefined {
  if (ref.length === 0 || ref.length > 200) return 'must be 1-200 characters';
  if (ref.startsWith('-')) return 'must not start with "-"';
  if (ref.includes('..')) return 'must not contain ".."';
  if (/[\s~^:?*[\\\x00-\x1f\x7f]/.test(ref)) return 'must not contain spaces, control characters or ~^:?*[\\';
  if (ref.includes('@{')) return 'must not contain "@{"';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) return 'has an empty path component';
  if (ref.endsWith('.') || ref.endsWith('.lock')) return 'must not end with "." or ".lock"';
  if (ref.split('/').some((part) => part.startsWith('.'))) return 'no path component may start with "."';
  return undefined;
}

/** A short, readable slug of a repository location, used for the mirror directory and the DroverRepo attribute. */
export function repoSlug(repo: string): string {
  const trimmed = repo.replace(/\/+$/, '').replace(/\.git$/, '');
  const tail = trimmed.split(/[/:]/).filter(Boolean).slice(-2).join('-');
  return (tail || 'repo').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
}

/** The tag on every process of a job (agent, steps, git), so a crashed worker's leftovers can be found. */
export const processTag = (jobId: string) => `drover-job:${jobId}`;
/** The processes of a mirror's fetch, which jobs share: by the mirror's path, so data dirs never mix. */
export const fetchTag = (mirror: string) => `drover-fetch:${mirror}`;

/**
 * The integration workflow of a repository and target branch: readable, and unique by a hash of both (two
 * repositories can share a slug).
 */
export function integrationIdFor(repo: string, into: string): string {
  const safe = into.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  return `drover-integrate-${repoSlug(repo)}-${safe}-${fnv1a(`${repo}\0${into}`)}`;
}

/**
 * A job's integration run gets a worktree of its own, apart from the job's, and one per target: the same job
 * may be landing on two branches at once. No job id ends in INTEGRATE_SUFFIX (jobIdProblem).
 */
export const integrationRunIdFor = (jobId: string, into: string): string =>
  `${jobId.slice(0, 80).replace(/\.+$/, '')}-${fnv1a(`${jobId}\0${into}`)}${INTEGRATE_SUFFIX}`;
export const INTEGRATE_SUFFIX = '.integrate';

/** 32-bit FNV-1a as 8 hex digits: deterministic in the workflow sandbox and in the client alike. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
