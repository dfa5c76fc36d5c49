import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import { durationMs } from '../shared/duration.js';
import { failureTypeOf } from '../shared/errors.js';
import { backendQueueFor, branchFor, dockerQueueFor, repoSlug } from '../shared/ids.js';
import { answerText } from '../shared/answer.js';
import { TERMINAL_PHASES } from '../shared/phases.js';
import type { JobInput, JobResult, ValidationCheck, ValidationRound, Workspace } from '../shared/schemas.js';
import { DroverAgent, DroverRepo } from '../shared/search-attributes.js';
import {
  agentOptions,
  criticOptions,
  hostActivities,
  inputActivities,
  setupOptions,
  sharedActivities,
  validationOptions,
} from './activity-proxies.js';
import { jobPlan, type JobPlan } from '../shared/job-plan.js';
import { answerSignal, statusQuery } from './definitions.js';
import { JobState, type JobStyle } from './job-state.js';

const FEEDBACK_LIMIT = 6_000;
const MAX_QUESTIONS = 20;
/** Added after v1 histories were recorded; older runs replay without the memo. */
const PENDING_QUESTION_MEMO = 'pending-question-memo';
/** Added with the CLI backends: the first activity goes to the backend's queue, not the job queue. */
const BACKEND_QUEUES = 'backend-queues';
/** Added with setup and teardown steps: activities that older histories do not have. */
const SETUP_STEPS = 'setup-steps';

/**
 * One coding-agent job: worktree, agent (asking a person when it needs one), validation and critic rounds,
 * commit, cleanup. If the worker holding the worktree disappears, the job starts over on another worker.
 *
 * The job as first released: runs that started under it keep running it, with each later change behind
 * patched(). New jobs start agentJobV2.
 */
export async function agentJobWorkflow(rawInput: unknown): Promise<JobResult> {
  return runJob(rawInput, { has: patched, inputByActivity: false, lean: false });
}

/**
 * The same job with every change agentJobWorkflow patched in, and a lighter history: each patch cost a job two
 * events (a marker and a TemporalChangeVersion update), and the sandbox's zod about 17 ms of CPU. 34 events
 * for a job that changed nothing, against 43.
 */
export async function agentJobV2(rawInput: unknown): Promise<JobResult> {
  return runJob(rawInput, { has: () => true, inputByActivity: true, lean: true });
}

async function runJob(rawInput: unknown, style: JobStyle): Promise<JobResult> {
  const job = style.inputByActivity ? await parseByActivity(rawInput) : parseInSandbox(rawInput);
  const state = new JobState(job, style);

  setHandler(statusQuery, () => state.view());
  setHandler(answerSignal, (payload) => {
    const answer = answerText(payload);
    if ('problem' in answer) return log.warn('ignored an invalid answer', { error: answer.problem });
    if (state.pendingQuestion === null) return log.warn('ignored an answer: no question is pending');
    state.pendingAnswer = answer.text;
  });
  const attributes = [
    { key: DroverRepo, value: repoSlug(job.repo) },
    { key: DroverAgent, value: job.agent.kind },
  ];
  // The client sets them at start; a job started another way (temporal workflow start, the UI) gets them here.
  const missing = style.lean ? attributes.filter((a) => workflowInfo().typedSearchAttributes.get(a.key) !== a.value) : attributes;
  if (missing.length > 0) upsertSearchAttributes(missing);

  for (;;) {
    try {
      return await runAttempt(job, state);
    } catch (err) {
      if (isCancellation(err)) {
        state.enter('cancelled');
        throw err;
      }
      if (hostLost(err) && state.attempt <= job.maxWorkerRestarts) {
        const gone = state.worker ?? 'unknown';
        state.attempt += 1;
        state.revision = 0;
        state.rounds.length = 0;
        // Answers already given stay valid: the new attempt's prompt carries them.
        // The timer's summary is how the restart shows up in the history and the UI.
        await sleep('1s', { summary: `worker ${gone} is gone; starting the job over (attempt ${state.attempt})` });
        continue;
      }
      state.enter('failed');
      throw jobFailure(err, state);
    }
  }
}

/**
 * The job, parsed by a local activity. In the sandbox, zod and the schemas would be evaluated again for every
 * new workflow (each gets fresh modules): about 17 ms of CPU a job.
 */
async function parseByActivity(raw: unknown): Promise<JobInput> {
  try {
    return await inputActivities.checkJobInput(raw);
  } catch (err) {
    if (isCancellation(err)) throw err;
    let root = err as Error | undefined;
    while (root?.cause instanceof Error) root = root.cause;
    throw ApplicationFailure.create({
      type: failureTypeOf(err) ?? 'Unexpected',
      message: root?.message ?? String(err),
      nonRetryable: true,
    });
  }
}

/** The job parsed in the sandbox, as agentJobWorkflow always did; the schemas are required only here. */
function parseInSandbox(raw: unknown): JobInput {
  // webpack's eager require: in the bundle, evaluated when called rather than when the workflow module loads.
  const { parseJobInput } = require(/* webpackMode: "eager" */ '../shared/schemas.js') as typeof import('../shared/schemas.js');
  const parsed = parseJobInput(raw);
  if (!parsed.ok) throw ApplicationFailure.create({ type: 'InvalidInput', message: parsed.message, nonRetryable: true });
  return parsed.job;
}

/** The job's failure with a stable Drover type and the root cause's message, whatever layer it came from. */
function jobFailure(err: unknown, state: JobState): unknown {
  if (err instanceof ApplicationFailure && !(err.cause instanceof Error)) return err;
  if (hostLost(err)) {
    return ApplicationFailure.create({
      type: 'WorkerUnavailable',
      message: `the worker holding the worktree (${state.worker ?? 'unknown'}) is gone, and ${state.attempt - 1} restart(s) did not help`,
      nonRetryable: true,
      cause: err as Error,
    });
  }
  let root = err as Error | undefined;
  while (root?.cause instanceof Error) root = root.cause;
  return ApplicationFailure.create({
    type: failureTypeOf(err) ?? 'Unexpected',
    message: root?.message ?? String(err),
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
}

async function runAttempt(job: JobInput, state: JobState): Promise<JobResult> {
  let queue: string | undefined;
  if (state.style.has(BACKEND_QUEUES)) {
    const base = workflowInfo().taskQueue;
    const docker = job.runtime?.kind === 'docker';
    queue = docker ? dockerQueueFor(base) : backendQueueFor(base, job.agent.kind);
    state.waitingFor = docker
      ? `a worker with Docker and the agent image (task queue ${queue})`
      : `a worker with the ${job.agent.kind} backend (task queue ${queue})`;
    state.waitingQueue = queue;
  }
  state.enter('preparing');
  const ws = await sharedActivities(job, queue).prepareWorkspace({
    jobId: job.id,
    repo: job.repo,
    base: job.base,
    ...(job.runtime ? { runtime: job.runtime } : {}),
    ...(job.include?.length ? { include: job.include } : {}),
  });
  state.waitingFor = null;
  state.waitingQueue = null;
  state.baseCommit = ws.baseCommit;
  state.worker = ws.workerId;
  // A session lives in its worker's files and its worktree: a new attempt starts a new one.
  state.session = null;
  let hostAlive = true;
  try {
    return await runOnHost(job, state, ws);
  } catch (err) {
    hostAlive = !hostLost(err);
    throw err;
  } finally {
    // Non-cancellable so the worktree is removed even when the job is cancelled.
    if (hostAlive) await CancellationScope.nonCancellable(() => cleanup(job, state, ws));
  }
}

async function runOnHost(job: JobInput, state: JobState, ws: Workspace): Promise<JobResult> {
  // Defaults from the repository and the worker are followed only by code that knows them: a history
  // started by older code keeps running the job's own steps, whatever a newer worker's prepare returned.
  const plan = jobPlan(job, state.style.has(SETUP_STEPS) ? ws.defaults : undefined);
  if (plan.setup.length > 0 || plan.cache.length > 0) {
    const failed = await setUp(job, state, ws, plan);
    if (failed) return result(job, state, ws, 'failed', null, { type: 'SetupFailed', message: setupFailure(failed) });
  }
  let feedback: string | undefined;
  for (;;) {
    await runAgentUntilDone(job, state, ws, feedback);

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

    if (!feedback) return commit(job, state, ws);
    if (state.revision >= job.maxRevisions) {
      return result(job, state, ws, 'failed', null, {
        type: failedChecks.length > 0 ? 'ValidationFailed' : 'CriticRejected',
        message: `still failing after ${state.revision} revision(s)`,
      });
    }
    state.revision += 1;
  }
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

/** Runs the agent; each time it asks a question, waits durably for the answer and runs it again. */
async function runAgentUntilDone(job: JobInput, state: JobState, ws: Workspace, feedback: string | undefined) {
  let answering: 'native' | 'file' | undefined;
  for (;;) {
    state.enter('running_agent');
    const summary = `run ${job.agent.kind} agent, revision ${state.revision}, round ${state.questions.length + 1}`;
    const out = await hostActivities(job, ws.hostQueue, summary, agentOptions(job)).runAgent({
      jobId: job.id,
      worktree: ws.worktree,
      ...(ws.runtime ? { runtime: ws.runtime } : {}),
      agent: job.agent,
      prompt: job.prompt,
      revision: state.revision,
      ...(feedback === undefined ? {} : { feedback }),
      questions: state.questions,
      timeouts: job.timeouts,
      ...(state.session ? { session: state.session } : {}),
      ...(answering ? { answering } : {}),
    });
    answering = undefined;
    state.lastAgentEvent = out.lastEvent;
    if (out.usage) state.addUsage(out.usage, out.usageScope === 'session' && out.sessionId === state.session);
    if (out.sessionId) state.session = out.sessionId;
    if (out.outcome !== 'question' || !out.question) return;
    if (state.questions.length >= MAX_QUESTIONS) {
      throw ApplicationFailure.create({
        type: 'AgentProtocolError',
        message: `the agent asked more than ${MAX_QUESTIONS} questions`,
        nonRetryable: true,
      });
    }

    state.pendingQuestion = out.question;
    state.pendingAnswer = null;
    // The memo lets `drover status` and `drover list` show the question even when no worker answers queries.
    if (state.style.has(PENDING_QUESTION_MEMO)) upsertMemo({ pendingQuestion: out.question });
    state.enter('waiting_for_human');
    const answered = await condition(() => state.pendingAnswer !== null, durationMs(job.timeouts.humanAnswer), {
      summary: `waiting for an answer to: ${out.question.slice(0, 120)}`,
    });
    if (!answered) {
      throw ApplicationFailure.create({
        type: 'HumanTimeout',
        message: `no answer within ${job.timeouts.humanAnswer} to: ${out.question}`,
        nonRetryable: true,
      });
    }
    state.questions.push({ question: out.question, answer: state.pendingAnswer ?? '' });
    answering = out.native ? 'native' : 'file';
    state.pendingQuestion = null;
    state.pendingAnswer = null;
    if (state.style.has(PENDING_QUESTION_MEMO)) upsertMemo({ pendingQuestion: null });
  }
}

async function commit(job: JobInput, state: JobState, ws: Workspace): Promise<JobResult> {
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
  });
  return result(job, state, ws, out.commit ? 'succeeded' : 'no_changes', out.commit, undefined, out.files, out.filesTruncated);
}

async function cleanup(job: JobInput, state: JobState, ws: Workspace): Promise<void> {
  const outcome = TERMINAL_PHASES.has(state.phase) ? state.phase : undefined;
  // Once the outcome is known, the lean style keeps it in DroverStatus through cleanup (two events fewer).
  const announce = !(outcome && state.style.lean);
  state.enter('cleaning_up', announce);
  await tearDown(job, ws, jobPlan(job, state.style.has(SETUP_STEPS) ? ws.defaults : undefined));
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
    ...(state.usage ? { usage: state.usage } : {}),
    ...(failure ? { failure } : {}),
  };
}

function workerGone(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

/** The worker holding the worktree is gone, or it lost the worktree: only a fresh start can help. */
const hostLost = (err: unknown): boolean => workerGone(err) || failureTypeOf(err) === 'WorkspaceLost';

function setupFailure(step: ValidationCheck): string {
  const how = step.timedOut ? 'timed out' : `exit ${step.exitCode ?? 'none'}`;
  const tail = step.outputTail.trim().split('\n').slice(-15).join('\n');
  return `setup step "${step.name}" failed (${how}); the agent did not run${tail ? `:\n${tail}` : ''}`;
}

function validationFeedback(failed: ValidationRound['checks']): string {
  const parts = failed.map(
    (c) => `### ${c.name} failed (exit ${c.exitCode ?? 'none'}${c.timedOut ? ', timed out' : ''})\n\n${c.outputTail}`,
  );
  const text = `The validation steps failed. Fix the problems below.\n\n${parts.join('\n\n')}`;
  return text.length > FEEDBACK_LIMIT ? text.slice(text.length - FEEDBACK_LIMIT) : text;
}

function defaultMessage(prompt: string): string {
  const first = prompt.trim().split('\n')[0] ?? 'drover job';
  return first.length > 72 ? `${first.slice(0, 69)}...` : first;
}
