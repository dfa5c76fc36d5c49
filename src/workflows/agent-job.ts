import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { failureTypeOf } from '../shared/errors.js';
import { backendQueueFor, dockerQueueFor, repoSlug } from '../shared/ids.js';
import { answerText } from '../shared/answer.js';
import type { JobInput, JobResult } from '../shared/schemas.js';
import { DroverAgent, DroverRepo } from '../shared/search-attributes.js';
import { inputActivities, sharedActivities } from './activity-proxies.js';
import { answerSignal, integrationSignal, statusQuery } from './definitions.js';
import { integrateFinished, type StartPoint } from './integrate-job.js';
import { JobState, type JobStyle } from './job-state.js';
import { jobFinished, jobStarted } from './job-metrics.js';
import { BACKEND_QUEUES } from './patches.js';
import { cleanup, runOnHost } from './on-host.js';
import { hostLost } from './host-lost.js';
import { notifyOutcome } from './notify.js';
import { listenForMessages } from './steering.js';

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
  // Only a parent job sets subtaskOf on its children: it picks the host, the fetch and the defaults.
  if (job.subtaskOf && job.subtaskOf.parent !== workflowInfo().parent?.workflowId) {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      message: 'invalid job: subtaskOf: is set only by a parent job',
      nonRetryable: true,
    });
  }
  setHandler(statusQuery, () => state.view());
  listenForAnswers(job, state);
  listenForMessages(state);
  const attributes = [
    { key: DroverRepo, value: repoSlug(job.repo) },
    { key: DroverAgent, value: job.agent.kind },
  ];
  // The client sets them at start; a job started another way (temporal workflow start, the UI) gets them here.
  const missing = style.lean ? attributes.filter((a) => workflowInfo().typedSearchAttributes.get(a.key) !== a.value) : attributes;
  if (missing.length > 0) upsertSearchAttributes(missing);

  jobStarted(job.agent.kind);
  try {
    let result = await attempts(job, state);
    if (job.integrate && result.status === 'succeeded' && result.commit) {
      result = await integrateFinished(job, state, result, (start) => attempts(job, state, start));
    }
    jobFinished(job.agent.kind, result.status);
    if (job.notify) await notifyOutcome(job, state, { result });
    return result;
  } catch (err) {
    jobFinished(job.agent.kind, isCancellation(err) ? 'cancelled' : 'failed');
    if (job.notify) await notifyOutcome(job, state, { error: err });
    throw err;
  }
}

/** The answer signal and the merge queue's outcome signal, into the job's state. */
export function listenForAnswers(job: JobInput, state: JobState): void {
  setHandler(answerSignal, (payload) => {
    const answer = answerText(payload);
    if ('problem' in answer) return log.warn('ignored an invalid answer', { error: answer.problem });
    if (state.pendingQuestion === null) return log.warn('ignored an answer: no question is pending');
    state.pendingAnswer = answer.text;
  });
  setHandler(integrationSignal, (outcome) => {
    if (outcome?.jobId !== job.id || typeof outcome.ticket !== 'string') return log.warn('ignored an integration outcome for another job');
    state.integrationOutcome = outcome;
  });
}

/**
 * Runs the job, starting it over while the host holding it is lost and restarts are left. `start`: the job's
 * own branch, sent back by its integration, rather than its base.
 */
export async function attempts(job: JobInput, state: JobState, start?: StartPoint): Promise<JobResult> {
  for (;;) {
    try {
      return await runAttempt(job, state, start);
    } catch (err) {
      if (isCancellation(err)) {
        state.enter('cancelled');
        throw err;
      }
      // A subtask's base (its parent's snapshot) was only on the lost host: starting over cannot help.
      if (hostLost(err) && state.attempt <= job.maxWorkerRestarts && !job.subtaskOf) {
        const gone = state.worker ?? 'unknown';
        state.attempt += 1;
        state.revision = 0;
        state.rounds.length = 0;
        state.subtasks.length = 0;
        state.subtaskRequests = 0;
        state.subtasksAllotted = 0;
        // Answers already given stay valid: the new attempt's prompt carries them.
        // The timer's summary is how the restart shows up in the history and the UI.
        await sleep('1s', { summary: `worker ${gone} is gone; starting the job over (attempt ${state.attempt})` });
        continue;
      }
      state.enter('failed');
      throw jobFailure(err, state, job.subtaskOf?.host);
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
function jobFailure(err: unknown, state: JobState, parentHost?: string): unknown {
  if (err instanceof ApplicationFailure && !(err.cause instanceof Error)) return err;
  if (hostLost(err)) {
    return ApplicationFailure.create({
      type: 'WorkerUnavailable',
      message: parentHost
        ? `the worker of the parent job (task queue ${parentHost}), which holds this subtask's base, is gone`
        : `the worker holding the worktree (${state.worker ?? 'unknown'}) is gone, and ${state.attempt - 1} restart(s) did not help`,
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

async function runAttempt(job: JobInput, state: JobState, start?: StartPoint): Promise<JobResult> {
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
  // A subtask starts from its parent's snapshot, which only the parent's worker has: it runs there too.
  if (job.subtaskOf) {
    queue = job.subtaskOf.host;
    state.waitingFor = `the worker of its parent job ${job.subtaskOf.parent} (task queue ${queue})`;
    state.waitingQueue = queue;
  }
  state.enter('preparing');
  const ws = await sharedActivities(job, queue, !!job.subtaskOf).prepareWorkspace({
    jobId: job.id,
    repo: job.repo,
    base: start?.base ?? job.base,
    ...(job.runtime ? { runtime: job.runtime } : {}),
    ...(job.include?.length ? { include: job.include } : {}),
    ...(start ? { merge: { into: start.into } } : {}),
    // Its base is a commit an agent wrote: its .drover.yml is not read; the job carries its parent's steps.
    ...(job.subtaskOf ? { noDefaults: true, inMirror: true } : {}),
  });
  state.waitingFor = null;
  state.waitingQueue = null;
  if (!start) state.baseCommit = ws.baseCommit;
  state.worker = ws.workerId;
  state.runtime = ws.runtime ?? null;
  // A session lives in its worker's files and its worktree: a new attempt starts a new one.
  state.session = null;
  let hostAlive = true;
  try {
    return await runOnHost(job, state, ws, start?.feedback);
  } catch (err) {
    hostAlive = !hostLost(err);
    throw err;
  } finally {
    // Non-cancellable so the worktree is removed even when the job is cancelled.
    if (hostAlive) await CancellationScope.nonCancellable(() => cleanup(job, state, ws));
  }
}
