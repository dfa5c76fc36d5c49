import { integratedMessage } from '../git/git.js';
import { AppError } from '../shared/errors.js';
import { IntegrationEntry, type MergeOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { freshMirror } from './fresh-mirror.js';
import { jobCall, repoSource } from './workspace.js';

export interface MergeInput {
  jobId: string;
  repo: string;
  into: string;
  commit: string;
  /** The commit the job started from: rebase mode needs it in the target's history. */
  base?: string;
  mode: 'rebase' | 'merge';
}

export interface PushInput {
  jobId: string;
  repo: string;
  into: string;
  commit: string;
  /** The target as the merge saw it: the lease. */
  expected: string;
}

/** Where a job's commit goes to land (the worker's Temporal client); absent where no workflow worker runs. */
export interface IntegrationQueue {
  enqueue(target: { repo: string; into: string }, entry: IntegrationEntry): Promise<string>;
}

export function createIntegrationActivities(deps: ActivityContext) {
  return {
    /** A local activity of the job's workflow: signal-with-start of its repository's integration workflow. */
    async enqueueIntegration(input: { repo: string; into: string; entry: IntegrationEntry }): Promise<string> {
      if (!deps.integrations) throw new AppError('Unexpected', 'this worker cannot reach the integration workflows');
      const entry = IntegrationEntry.parse(input.entry);
      return deps.integrations.enqueue({ repo: input.repo, into: input.into }, entry);
    },
    mergeForIntegration: (input: MergeInput): Promise<MergeOutput> => withHeartbeat(() => mergeForIntegration(deps, input)),
    /** Pushes the merged commit; false when the target moved since the merge (the lease held it off). */
    pushIntegration: (input: PushInput): Promise<boolean> => withHeartbeat(() => pushIntegration(deps, input)),
  };
}

async function mergeForIntegration(deps: ActivityContext, input: MergeInput): Promise<MergeOutput> {
  const { log, call, mirror } = await freshMirror(deps, input.jobId, input.repo);
  const here = { hostQueue: deps.hostQueue, workerId: deps.workerId };
  const target = await deps.git.originBranch(mirror, input.into, call);
  if (!target) throw new AppError('BaseRefNotFound', `the origin has no branch ${input.into} to integrate into`);
  const landed = await deps.git.landedCommit(mirror, { target, from: input.commit, into: input.into }, call);
  if (landed) {
    log({ source: 'git', text: `already on ${input.into} as ${landed}` });
    return { status: 'already', target, commit: landed, ...here };
  }
  // The job's commit is in the origin (the job pushed it): the fetch above brought it.
  await deps.git.resolveBase(mirror, input.commit, call);
  // A rebase lands what the job changed since the merge base: for a job based on another branch, that would
  // carry the branch along as part of the job's one commit.
  if (input.mode === 'rebase' && input.base && !(await deps.git.isAncestor(mirror, input.base, target, call))) {
    throw new AppError(
      'IntegrationFailed',
      `the job started from ${input.base.slice(0, 12)}, which is not in ${input.into}'s history: integrate it into the branch it was based on, or with --merge`,
    );
  }
  const { tree, conflicts } = await deps.git.mergeTrees(mirror, target, input.commit, call);
  if (conflicts.length > 0) {
    log({ source: 'git', text: `${input.mode} onto ${input.into} at ${target} conflicts in ${conflicts.join(', ')}` });
    return { status: 'conflict', target, conflicts: conflicts.slice(0, 50).map((f) => f.slice(0, 500)), ...here };
  }
  const message = integratedMessage(await deps.git.commitMessage(mirror, input.commit, call), input.into, input.commit);
  const parents = input.mode === 'merge' ? [target, input.commit] : [target];
  const commit = await deps.git.commitTree(mirror, { tree, parents, message }, call);
  log({ source: 'git', text: `${input.mode === 'merge' ? 'merged' : 'rebased'} onto ${input.into} at ${target}: ${commit}` });
  return { status: 'merged', target, commit, ...here };
}

async function pushIntegration(deps: ActivityContext, input: PushInput): Promise<boolean> {
  const log = deps.jobLog(input.jobId);
  const { url, local } = repoSource(deps, input.repo);
  const mirror = deps.paths.mirror(input.repo);
  const req = { gitdir: mirror, url, local, branch: input.into, sha: input.commit, expected: input.expected };
  try {
    await deps.git.pushCommit(req, jobCall(input.jobId));
  } catch (err) {
    if (!(err instanceof AppError && err.type === 'PushRejected')) throw err;
    log({ source: 'git', text: `${input.into} moved since ${input.expected.slice(0, 12)}; merging again on the new ${input.into}` });
    return false;
  }
  log({ source: 'git', text: `pushed ${input.commit} to ${input.into}` });
  return true;
}
