import { Context } from '@temporalio/activity';
import type { JobRepo } from '../git/git.js';
import type { CacheSpec, SetupInput, SetupOutput, TeardownInput, ValidationCheck } from '../shared/schemas.js';
import { cacheKey } from './dep-cache.js';
import type { ActivityContext } from './deps.js';
import type { JobLog } from './job-log.js';
import { withHeartbeat } from './heartbeat.js';
import { type Placement, placementFor, requireDocker } from './placement.js';
import { killLeftovers, runSteps } from './steps.js';
import { jobCall, requireJobRepo, whileJobStopped } from './workspace.js';

export function createSetupActivities(deps: ActivityContext) {
  return {
    runSetup: (input: SetupInput): Promise<SetupOutput> => runSetup(deps, input),
    runTeardown: (input: TeardownInput): Promise<ValidationCheck[]> => runTeardown(deps, input),
  };
}

/**
 * Restores the job's dependency caches, runs the setup steps (stopping at the first that fails) and,
 * when all passed, saves the caches that did not exist. A cache that cannot be restored or saved is
 * logged and skipped: it only saves time.
 */
async function runSetup(deps: ActivityContext, input: SetupInput): Promise<SetupOutput> {
  const log = deps.jobLog(input.jobId);
  const repo = requireJobRepo(deps, input.jobId, input.worktree);
  const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
  const signal = Context.current().cancellationSignal;
  return withHeartbeat(async () => {
    await killLeftovers(place, input.jobId, log);
    const caches = await jobCaches(deps, input, repo, place);
    const restored = await restoreCaches(deps, input, place, caches, log, signal);
    const checks = await runSteps(deps, { jobId: input.jobId, worktree: input.worktree, place, log, source: 'setup' }, input.steps, {
      stopAtFailure: true,
    });
    let saved: string[] = [];
    if (checks.every((c) => c.passed)) {
      await whileJobStopped(deps, input.jobId, input.worktree, () => deps.git.markSetupTree(repo, input.baseCommit, jobCall(input.jobId)));
      if (!input.restoreOnly) saved = await saveCaches(deps, input, caches, log, signal);
    }
    return { checks, restored, saved };
  });
}

/** Runs the teardown steps; each runs even when one before it failed. */
async function runTeardown(deps: ActivityContext, input: TeardownInput): Promise<ValidationCheck[]> {
  const log = deps.jobLog(input.jobId);
  requireJobRepo(deps, input.jobId, input.worktree);
  const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
  return withHeartbeat(() => runSteps(deps, { jobId: input.jobId, worktree: input.worktree, place, log, source: 'teardown' }, input.steps));
}

interface JobCache {
  spec: CacheSpec;
  key: string;
}

async function jobCaches(deps: ActivityContext, input: SetupInput, repo: JobRepo, place: Placement): Promise<JobCache[]> {
  const keyFiles = await deps.git.treeEntries(
    repo.gitdir,
    input.baseCommit,
    [...new Set(input.cache.flatMap((c) => c.key))],
    jobCall(input.jobId),
  );
  const where =
    place.runtime.kind === 'docker'
      ? `docker:${input.runtime?.kind === 'docker' && input.runtime.image ? input.runtime.image : requireDocker(deps).defaultImage}`
      : 'host';
  const made = { repo: input.repo, place: where, setup: input.steps.map((s) => s.command) };
  return input.cache.map((spec) => ({ spec, key: cacheKey(spec, made, keyFiles) }));
}

async function restoreCaches(
  deps: ActivityContext,
  input: SetupInput,
  place: Placement,
  caches: JobCache[],
  log: JobLog,
  signal: AbortSignal,
): Promise<string[]> {
  return whileJobStopped(deps, input.jobId, input.worktree, async () => {
    const paths: string[] = [];
    for (const c of caches) {
      const got = await tryCache(log, `restore cache ${c.key}`, () => deps.cache.restore(c.key, input.worktree, signal), []);
      log({
        source: 'cache',
        text: got.length ? `cache ${c.key} restored: ${got.join(', ')}` : `cache ${c.key} (${c.spec.paths.join(', ')}): nothing to restore`,
      });
      paths.push(...got);
    }
    // Restored files are the worker's; in a container the job's user must be able to change them.
    if (paths.length > 0 && place.runtime.kind === 'docker') requireDocker(deps).handToAgent(input.worktree);
    return paths;
  });
}

/** Saves the caches that do not exist yet; returns the paths saved. */
async function saveCaches(
  deps: ActivityContext,
  input: SetupInput,
  caches: JobCache[],
  log: JobLog,
  signal: AbortSignal,
): Promise<string[]> {
  const saved: string[] = [];
  for (const c of caches.filter((c) => !deps.cache.has(c.key))) {
    const out = await whileJobStopped(deps, input.jobId, input.worktree, () =>
      tryCache(log, `save cache ${c.key}`, () => deps.cache.save(c.key, input.worktree, c.spec.paths, signal), undefined),
    );
    if (out?.tooLarge)
      log({ source: 'cache', text: `cache ${c.key} not saved: ${(out.tooLarge / 1e6).toFixed(0)} MB is more than cache.maxSize` });
    if (!out || out.saved.length === 0) continue;
    saved.push(...out.saved);
    log({ source: 'cache', text: `cache ${c.key} saved: ${out.saved.join(', ')} (${(out.sizeBytes / 1e6).toFixed(1)} MB)` });
    if (out.evicted.length) log({ source: 'cache', text: `evicted cache(s) over cache.maxSize: ${out.evicted.join(', ')}` });
  }
  return saved;
}

async function tryCache<T>(log: JobLog, what: string, work: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (Context.current().cancellationSignal.aborted) throw err;
    log({ source: 'cache', text: `could not ${what}: ${(err as Error).message}` });
    return fallback;
  }
}
