import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { repoSlug } from '../shared/ids.js';

/** The layout of Drover's data dir, shared by the worker (which writes) and the CLI (which reads logs). */
export const dataPaths = (dataDir: string) => ({
  root: dataDir,
  mirrors: () => join(dataDir, 'mirrors'),
  worktrees: () => join(dataDir, 'worktrees'),
  jobs: () => join(dataDir, 'jobs'),
  mirror: (repo: string) => join(dataDir, 'mirrors', `${repoSlug(repo)}-${shortHash(repo)}.git`),
  worktree: (jobId: string) => join(dataDir, 'worktrees', jobId),
  /** Directories for container jobs: each warm container sees one, and a job's worktree is made in it. */
  dockerSlots: () => join(dataDir, 'docker-slots'),
  jobDir: (jobId: string) => join(dataDir, 'jobs', jobId),
  jobLog: (jobId: string) => join(dataDir, 'jobs', jobId, 'log.jsonl'),
  /** The job's git directory: only the worker writes it, and no job can reach it. */
  jobGitDir: (jobId: string) => join(dataDir, 'jobs', jobId, 'git'),
  /** Run files of a job on the host runtime (a container job's are in its slot directory). */
  jobRunDir: (jobId: string) => join(dataDir, 'jobs', jobId, 'run'),
  /** Dependency caches (`cache:` of jobs, repositories and the worker config), one directory per key. */
  caches: () => join(dataDir, 'caches'),
  /** Checkouts made ahead of the jobs that take them (large repositories only), one directory per mirror. */
  spares: () => join(dataDir, 'spares'),
  temporalDb: () => join(dataDir, 'temporal', 'dev.db'),
  workerIdFile: () => join(dataDir, 'worker-id'),
  /** What this worker's agents spent today, against worker.dailyBudget. */
  dailySpend: () => join(dataDir, 'spend', 'daily.json'),
  /** Written by `drover dev`: its address and UI URL, so other commands link to the right UI. */
  devEndpoint: () => join(dataDir, 'temporal', 'endpoint.json'),
});
export type DataPaths = ReturnType<typeof dataPaths>;

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);
