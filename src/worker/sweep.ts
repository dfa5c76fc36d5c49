/**
 * What jobs left on this worker that it no longer holds: worktrees, job git and run directories, slot
 * directories, tagged processes, half-made mirrors and the mirrors' old per-job branches. A worker sweeps them
 * at start, once it polls, for jobs that are finished, unknown to Temporal, or held by another worker now.
 * A job it still holds, one being prepared, or one whose state cannot be read is left alone.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { fetchTag, processTag } from '../shared/ids.js';
import type { DataPaths } from '../config/paths.js';
import type { Git } from '../git/git.js';
import type { Runtime } from '../runtimes/runtime.js';
import { statusQuery } from '../workflows/definitions.js';

const QUERY_TIMEOUT_MS = 5_000;
const LEGACY_BRANCH = 'refs/heads/drover/';

/** Where a job's leftovers lie on this worker. */
interface Leftovers {
  paths: Set<string>;
  /** Mirrors holding an old per-job branch of it. */
  mirrors: Set<string>;
}

export interface SweepReport {
  swept: string[];
  kept: string[];
}

export type JobWhereabouts = 'here' | 'elsewhere' | 'finished' | 'unknown';

/**
 * Stops fetches a worker of this data dir left running when it died: no job waits for them now, and one
 * would race this worker's own fetch into the mirror.
 */
export async function stopOrphanFetches(paths: DataPaths, runtime: Runtime): Promise<number> {
  const names = existsSync(paths.mirrors()) ? readdirSync(paths.mirrors()) : [];
  const mirrors = new Set(names.map((n) => join(paths.mirrors(), n.replace(/\.tmp-.*$/, ''))));
  let stopped = 0;
  for (const mirror of mirrors) stopped += await runtime.killTagged(fetchTag(mirror));
  return stopped;
}

/**
 * Lists what lies on disk; done before the worker polls, so nothing it lists is being made right now. Slot
 * directories count only when this worker's old containers are gone (`containersRemoved`): processes in
 * them could still be at work in a slot.
 */
export async function findLeftovers(paths: DataPaths, git: Git, containersRemoved: boolean): Promise<Map<string, Leftovers>> {
  const found = new Map<string, Leftovers>();
  const add = (jobId: string, what: { path?: string; mirror?: string }) => {
    const entry = found.get(jobId) ?? { paths: new Set<string>(), mirrors: new Set<string>() };
    if (what.path) entry.paths.add(what.path);
    if (what.mirror) entry.mirrors.add(what.mirror);
    found.set(jobId, entry);
  };
  for (const id of dirs(paths.worktrees())) add(id, { path: paths.worktree(id) });
  for (const id of dirs(paths.jobs())) {
    for (const sub of [paths.jobGitDir(id), paths.jobRunDir(id)]) if (existsSync(sub)) add(id, { path: sub });
  }
  // A slot directory holds one job's worktree beside its own .home and .run.
  for (const slot of containersRemoved ? dirs(paths.dockerSlots()) : []) {
    for (const id of dirs(join(paths.dockerSlots(), slot)).filter((d) => !d.startsWith('.')))
      add(id, { path: join(paths.dockerSlots(), slot) });
  }
  for (const name of dirs(paths.mirrors())) {
    const mirror = join(paths.mirrors(), name);
    if (/\.tmp-\d+-\d+$/.test(name)) {
      // A mirror a crashed worker was still making.
      if (!name.includes(`.tmp-${process.pid}-`)) rmSync(mirror, { recursive: true, force: true });
      continue;
    }
    const branches = await git.legacyJobBranches(mirror, {}).catch(() => [] as string[]);
    for (const ref of branches) add(ref.slice(LEGACY_BRANCH.length), { mirror });
  }
  return found;
}

/** Removes the leftovers of every job this worker does not hold. */
export async function sweep(
  found: Map<string, Leftovers>,
  whereabouts: (jobId: string) => Promise<JobWhereabouts>,
  deps: { git: Git; runtime: Runtime },
): Promise<SweepReport> {
  const report: SweepReport = { swept: [], kept: [] };
  for (const [jobId, left] of found) {
    const where = await whereabouts(jobId).catch((): JobWhereabouts => 'unknown');
    if (where === 'here' || where === 'unknown') {
      report.kept.push(jobId);
      continue;
    }
    await deps.runtime.killTagged(processTag(jobId));
    for (const path of left.paths) rmSync(path, { recursive: true, force: true });
    for (const mirror of left.mirrors) await deps.git.deleteRef(mirror, `${LEGACY_BRANCH}${jobId}`, {}).catch(() => undefined);
    report.swept.push(jobId);
  }
  return report;
}

/** Where Temporal says a job is: finished (or never known), held by this worker, or by another. */
export function whereaboutsFrom(client: Client, workerId: string): (jobId: string) => Promise<JobWhereabouts> {
  const placed = placementFrom(client, workerId);
  return async (jobId) => (await placed(jobId)).where;
}

export interface Placement {
  where: JobWhereabouts;
  /** The job's phase while it runs. */
  phase?: string;
}

export function placementFrom(client: Client, workerId: string): (jobId: string) => Promise<Placement> {
  return async (jobId) => {
    const handle = client.workflow.getHandle(jobId);
    const desc = await handle.describe().catch((err) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
    if (desc?.status.name !== 'RUNNING') return { where: 'finished' };
    const view = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(statusQuery));
    // A job being prepared may be making its files here right now.
    if (view.phase === 'queued' || view.phase === 'preparing') return { where: 'unknown', phase: view.phase };
    return { where: view.worker === workerId ? 'here' : 'elsewhere', phase: view.phase };
  };
}

function dirs(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
