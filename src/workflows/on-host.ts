/**
 * The job on the worker that holds its worktree: setup, the agent (asking a person when it must), validation
 * and critic rounds, the commit, and cleanup. agent-job.ts places the job on a host and starts over elsewhere
 * if that host is lost.
 */
import { log } from '@temporalio/workflow';
import { failureTypeOf } from '../shared/errors.js';
import { branchFor } from '../shared/ids.js';
import { TERMINAL_PHASES } from '../shared/phases.js';
import type { JobInput, JobResult, ValidationCheck, ValidationRound, Workspace } from '../shared/schemas.js';
import { criticOptions, hostActivities, setupOptions, validationOptions } from './activity-proxies.js';
import { jobPlan, type JobPlan } from '../shared/job-plan.js';
import type { JobState } from './job-state.js';
import { SETUP_STEPS } from './patches.js';
import { runAgentUntilDone } from './agent-runs.js';
import { hasUndelivered } from './steering.js';

export { askPerson } from './agent-runs.js';
import { setupFailure, validationFeedback } from './feedback.js';

/** `firstFeedback`: why the agent runs again on a branch its integration sent back. */
export async function runOnHost(job: JobInput, state: JobState, ws: Workspace, firstFeedback?: string): Promise<JobResult> {
  const plan = withConflictCheck(planOf(job, state, ws), ws.conflicts);
  if (plan.setup.length > 0 || plan.cache.length > 0) {
    const failed = await setUp(job, state, ws, plan);
    if (failed) return result(job, state, ws, 'failed', null, { type: 'SetupFailed', message: setupFailure(failed) });
  }
  let feedback = firstFeedback;
  for (;;) {
    const stopped = await budgetStop(() => runAgentUntilDone(job, state, ws, feedback));
    if (stopped) return job.budget?.wip ? commit(job, state, ws, stopped) : result(job, state, ws, 'failed', null, stopped);

    const round: ValidationRound = { revision: state.revision, checks: [] };
    state.rounds.push(round);
    if (plan.validate.length > 0) {
      state.enter('validating');
      const summary = `validate (${plan.validate.map((s) => s.name).join(', ')}), revision ${state.revision}`;
      round.checks = await hostActivities(job, ws.hostQueue, summary, validationOptions(plan.validate)).runValidations({
        jobId: job.id,
        worktree: ws.worktree,
        steps: plan.validate,
        ...(ws.runtime ? { runtime: ws.runtime } : {}),
      });
    }
    const failedChecks = round.checks.filter((c) => !c.passed);
    feedback = failedChecks.length > 0 ? validationFeedback(failedChecks) : undefined;

    if (!feedback && job.critic) {
      state.enter('reviewing');
      const critic = hostActivities(job, ws.hostQueue, `critic review, revision ${state.revision}`, criticOptions(job.critic));
      const verdict = await critic.runCritic({
        jobId: job.id,
        worktree: ws.worktree,
        baseCommit: ws.baseCommit,
        critic: job.critic,
        ...(ws.runtime ? { runtime: ws.runtime } : {}),
      });
      round.critic = verdict;
      if (!verdict.approve) feedback = `A reviewer asked for changes:\n\n${verdict.comments}`;
    }

    // A message that came while the checks ran is the person's word on this work: the agent hears it first.
    if (!feedback && hasUndelivered(state)) continue;
    if (!feedback) return commit(job, state, ws);
    if (state.revision >= job.maxRevisions) {
      const failure = {
        type: failedChecks.length > 0 ? 'ValidationFailed' : 'CriticRejected',
        message: `still failing after ${state.revision} revision(s)`,
      };
      // An attempt of a best-of-N job keeps its work on its branch, failed or not, for the comparison.
      return job.attemptOf ? commit(job, state, ws, failure) : result(job, state, ws, 'failed', null, failure);
    }
    state.revision += 1;
  }
}

/** Runs `work`; a spent budget comes back as the job's failure rather than thrown. */
async function budgetStop(work: () => Promise<void>): Promise<JobResult['failure'] | undefined> {
  try {
    await work();
    return undefined;
  } catch (err) {
    // The job's own budget (thrown here) or its worker's daily ceiling (from the agent's activity).
    if (failureTypeOf(err) !== 'BudgetExceeded') throw err;
    let root = err as Error;
    while (root.cause instanceof Error) root = root.cause;
    return { type: 'BudgetExceeded', message: root.message };
  }
}

/**
 * Defaults from the repository and the worker are followed only by code that knows them: a history started
 * by older code keeps running the job's own steps, whatever a newer worker's prepare returned. A run on a
 * branch its integration sent back (`ws.merged`) keeps the defaults of the job's last checkout of its base:
 * the branch holds what the agent wrote, and its prepare reads none.
 */
function planOf(job: JobInput, state: JobState, ws: Workspace): JobPlan {
  if (!state.style.has(SETUP_STEPS)) return jobPlan(job, undefined);
  if (ws.merged === undefined) state.defaults = ws.defaults ?? null;
  return jobPlan(job, state.defaults ?? undefined);
}

/**
 * A branch sent back with conflicts is not done while a conflicted file still holds markers: a check like
 * the others, in the job's runtime (the file names come from the repository).
 */
function withConflictCheck(plan: JobPlan, conflicts: string[] | undefined): JobPlan {
  if (!conflicts?.length) return plan;
  const quoted = conflicts.map((f) => `'${f.replaceAll("'", "'\\''")}'`).join(' ');
  // Each file on its own: grep over a list exits 2 for one missing file even when another matches. A file the
  // agent deleted or replaced by a link resolved nothing to check.
  const command = `for f in ${quoted}; do [ -f "$f" ] && [ ! -L "$f" ] || continue; if grep -nE '^(<{7}|>{7})( |$)' -- "$f"; then exit 1; fi; done`;
  const step = { name: 'no conflict markers', command, timeout: '1m' };
  return { ...plan, validate: [...plan.validate, step] };
}

/** Restores caches and runs the setup steps; returns the failed step, if one failed. */
async function setUp(job: JobInput, state: JobState, ws: Workspace, plan: JobPlan): Promise<ValidationCheck | undefined> {
  state.enter('setting_up');
  const summary = plan.setup.length ? `setup (${plan.setup.map((s) => s.name).join(', ')})` : 'restore caches';
  const out = await hostActivities(job, ws.hostQueue, summary, setupOptions(plan.setup)).runSetup({
    jobId: job.id,
    repo: job.repo,
    worktree: ws.worktree,
    baseCommit: ws.baseCommit,
    steps: plan.setup,
    cache: plan.cache,
    ...(ws.runtime ? { runtime: ws.runtime } : {}),
    // A subtask's base is its parent's snapshot, a tree an agent wrote: no cache is saved from it either.
    ...(ws.merged || job.subtaskOf ? { restoreOnly: true } : {}),
  });
  state.setup = out.checks;
  return out.checks.find((c) => !c.passed);
}

/** Teardown runs whatever happened before it; its failure is logged, never the job's. */
async function tearDown(job: JobInput, ws: Workspace, plan: JobPlan): Promise<void> {
  if (plan.teardown.length === 0) return;
  try {
    await hostActivities(
      job,
      ws.hostQueue,
      `teardown (${plan.teardown.map((s) => s.name).join(', ')})`,
      validationOptions(plan.teardown),
    ).runTeardown({
      jobId: job.id,
      worktree: ws.worktree,
      steps: plan.teardown,
      ...(ws.runtime ? { runtime: ws.runtime } : {}),
    });
  } catch (err) {
    log.warn('teardown failed', { error: String(err) });
  }
}

/** `failure`: an attempt's work committed although its checks or its critic did not pass. */
async function commit(job: JobInput, state: JobState, ws: Workspace, failure?: JobResult['failure']): Promise<JobResult> {
  state.enter('committing');
  const acts = hostActivities(job, ws.hostQueue, `commit to ${ws.branch}`);
  const out = await acts.commitChanges({
    jobId: job.id,
    repo: job.repo,
    worktree: ws.worktree,
    branch: ws.branch,
    baseCommit: ws.baseCommit,
    message: job.commitMessage ?? defaultMessage(job.prompt),
    agentKind: job.agent.kind,
    ...(ws.merged ? { merged: ws.merged } : {}),
  });
  const status = failure ? 'failed' : out.commit ? 'succeeded' : 'no_changes';
  return result(job, state, ws, status, out.commit, failure, out.files, out.filesTruncated);
}

export async function cleanup(job: JobInput, state: JobState, ws: Workspace): Promise<void> {
  const outcome = TERMINAL_PHASES.has(state.phase) ? state.phase : undefined;
  // Once the outcome is known, the lean style keeps it in DroverStatus through cleanup (two events fewer).
  const announce = !(outcome && state.style.lean);
  state.enter('cleaning_up', announce);
  await tearDown(job, ws, planOf(job, state, ws));
  try {
    await hostActivities(job, ws.hostQueue, 'remove worktree').cleanupWorkspace({
      jobId: job.id,
      repo: job.repo,
      worktree: ws.worktree,
      ...(ws.runtime ? { runtime: ws.runtime } : {}),
    });
  } catch (err) {
    // A worktree left behind must not turn a finished job into a failed one.
    log.warn('cleanup failed', { error: String(err) });
  }
  if (outcome) state.enter(outcome, announce);
}

function result(
  job: JobInput,
  state: JobState,
  ws: Workspace,
  status: JobResult['status'],
  commitSha: string | null,
  failure?: JobResult['failure'],
  files: JobResult['files'] = [],
  filesTruncated = 0,
): JobResult {
  state.enter(status);
  return {
    status,
    branch: branchFor(job.id),
    commit: commitSha,
    baseCommit: ws.baseCommit,
    files,
    filesTruncated,
    validations: state.rounds,
    ...(state.setup ? { setup: state.setup } : {}),
    revisions: state.revision,
    questions: state.questions,
    attempts: state.attempt,
    durationsMs: state.durationsMs,
    agentSession: state.session,
    ...(state.runtime ? { runtime: state.runtime } : {}),
    ...(state.defaults ? { defaults: state.defaults } : {}),
    ...(state.usage ? { usage: state.usage } : {}),
    ...state.steering(),
    ...state.tree(),
    ...(failure ? { failure } : {}),
  };
}

function defaultMessage(prompt: string): string {
  const first = prompt.trim().split('\n')[0] ?? 'drover job';
  return first.length > 72 ? `${first.slice(0, 69)}...` : first;
}
