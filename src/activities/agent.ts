import { Context, type Info } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { backendFor } from '../backends/registry.js';
import type { ExecResult } from '../runtimes/runtime.js';
import { AppError } from '../shared/errors.js';
import type { AgentHeartbeat, RunAgentInput, RunAgentOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { createSemaphore } from './semaphore.js';
import { keepHeartbeating } from './heartbeat.js';
import type { JobLog } from './job-log.js';
import { processTag } from '../shared/ids.js';
import { requireJobRepo } from './workspace.js';
import { placementFor } from './placement.js';
import { clearOutput, readOutput, takeQuestion, writeRunFiles } from './run-files.js';
import { fullPrompt, planRun } from './agent-plan.js';
import { type DailySpend, tighter } from './daily-spend.js';
import { usageMinus } from '../shared/spend.js';
import { type AgentEnd, execAgent, type PreparedRun } from './agent-exec.js';
import { answerOf, prepareSubtaskFiles, takeSubtasks, withNote } from './subtasks-file.js';

export { fullPrompt, planRun } from './agent-plan.js';

const QUESTION_LIMIT = 4_000;

type AgentSlots = ReturnType<typeof createSemaphore>;

export function createAgentActivities(deps: ActivityContext) {
  const agents = createSemaphore(deps.maxConcurrentAgents);
  return {
    runAgent: (input: RunAgentInput): Promise<RunAgentOutput> => runAgent(deps, agents, input),
  };
}

/**
 * Runs the agent once in the worktree. It either finishes, or asks a person by writing its question file
 * and exiting 0; the workflow then waits for the answer and runs it again.
 */
async function runAgent(deps: ActivityContext, agents: AgentSlots, input: RunAgentInput): Promise<RunAgentOutput> {
  const log = deps.jobLog(input.jobId);
  requireJobRepo(deps, input.jobId, input.worktree);
  const ctx = Context.current();
  // Waiting for a free agent slot happens here, heartbeating, rather than in the task queue, where a
  // long wait would look like a dead worker.
  const waitBeats = keepHeartbeating((): AgentHeartbeat => ({ summary: `waiting for a free agent slot on ${deps.workerId}`, lines: 0 }));
  const release = await agents
    .acquire(ctx.cancellationSignal)
    .catch(() => {
      throw new CancelledFailure('job cancelled while waiting for an agent slot');
    })
    .finally(waitBeats);
  try {
    return await runOnce(deps, input, log);
  } finally {
    release();
  }
}

/** One run of the agent's CLI: prepared, started clean, run to its end, and judged. */
async function runOnce(deps: ActivityContext, given: RunAgentInput, log: JobLog): Promise<RunAgentOutput> {
  const ctx = Context.current();
  // The worker's daily ceiling: none left stops the job here; some left bounds this run as the job's budget does.
  const input = deps.dailySpend ? { ...given, allowance: tighter(given.allowance, deps.dailySpend.allowance()) } : given;
  const prepared = await prepareRun(deps, input, ctx.info);
  await clearEarlierAttempt(prepared, ctx.info.attempt, log);
  logStart(input, prepared, ctx.info.attempt, log);
  const ended = await execAgent(deps, input, prepared, ctx.cancellationSignal, log);
  const { result } = ended;
  log({ source: 'drover', text: `agent ended: ${result.end}, exit ${result.exitCode ?? result.signal}, ${result.durationMs} ms` });
  try {
    if (ended.progress.overBudget && !ctx.cancellationSignal.aborted) return overBudget(prepared, ended);
    throwIfStopped(input, prepared, result, ctx.cancellationSignal);
    return await outcomeOf(deps, input, prepared, ended, log);
  } finally {
    // After outcomeOf: a CLI that reports in its output file has been read by then.
    if (deps.dailySpend) countForTheDay(deps.dailySpend, input, prepared.run);
  }
}

function unconfirmedOf(run: PreparedRun['run']): { unconfirmed?: string[] } {
  const left = run.unconfirmed?.() ?? [];
  return left.length > 0 ? { unconfirmed: left } : {};
}

/** What this run spent, for the worker's day: a session total less what the session had reported before. */
function countForTheDay(day: DailySpend, input: RunAgentInput, run: PreparedRun['run']): void {
  const reported = run.usage() ?? run.liveUsage?.();
  if (!reported) return;
  const before = run.usageScope === 'session' && run.sessionId() === input.session ? input.sessionSpent : undefined;
  day.add(before ? usageMinus(reported, before) : reported);
}

/** A run stopped for its budget: what it spent so far, for the workflow to end the job on. */
function overBudget({ run, plan }: PreparedRun, { result, progress }: AgentEnd): RunAgentOutput {
  const final = run.usage();
  const usage = final ?? run.liveUsage?.();
  return {
    outcome: 'done',
    overBudget: true,
    exitCode: result.exitCode ?? 0,
    lastEvent: progress.lastEvent,
    durationMs: result.durationMs,
    sessionId: run.sessionId() ?? plan.resume ?? null,
    ...(usage ? { usage, usageScope: final ? (run.usageScope ?? 'run') : 'run' } : {}),
    ...unconfirmedOf(run),
  };
}

/** Writes the run files and has the backend make the CLI's invocation, as the plan for this attempt says. */
async function prepareRun(
  deps: ActivityContext,
  input: RunAgentInput,
  info: Pick<Info, 'attempt' | 'heartbeatDetails'>,
): Promise<PreparedRun> {
  const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
  const prompt = withNote(fullPrompt(input.prompt, input.questions, input.feedback, input.messages), input.note);
  const droverEnv = { ...(await writeRunFiles(place.runDir, input, prompt)), ...(await prepareSubtaskFiles(place.runDir, input.worktree)) };
  const backend = backendFor(input.agent);
  const settings = (place.runtime.kind === 'docker' ? deps.containerAgents : deps.agents)[input.agent.kind];
  const plan = planRun(input, prompt, backend.capabilities.resume, info.attempt, info.heartbeatDetails);
  const run = backend.start({
    agent: input.agent,
    settings: settings as never,
    prompt: plan.prompt,
    worktree: input.worktree,
    droverEnv,
    ...(plan.resume ? { resume: plan.resume } : {}),
    ...(plan.nativeAnswer ? { nativeAnswer: plan.nativeAnswer } : {}),
  });
  const idle = input.timeouts.agentIdle ?? settings.idleTimeout;
  return { place, run, plan, settings, tag: processTag(input.jobId), idle };
}

async function clearEarlierAttempt({ place, run, tag }: PreparedRun, attempt: number, log: JobLog): Promise<void> {
  // A first attempt in a container has nothing to clean up (the container is the job's); on the host
  // another attempt's orphans may share nothing but the tag, so look every time.
  const leftovers = place.runtime.kind === 'host' || attempt > 1 ? await place.runtime.killTagged(tag) : 0;
  if (leftovers > 0) log({ source: 'drover', text: `killed ${leftovers} process(es) left by an earlier attempt` });
  // After the leftovers are gone: none of them can write the file this run will read.
  if (run.outputFile) await clearOutput(place.runDir, run.outputFile);
}

function logStart(input: RunAgentInput, { run, plan }: PreparedRun, attempt: number, log: JobLog): void {
  log({
    source: 'drover',
    text: `agent ${input.agent.kind} starting (revision ${input.revision}, attempt ${attempt}${plan.resume ? `, resuming session ${plan.resume}` : ''}${plan.note ? `, ${plan.note}` : ''})`,
    argv: run.invocation.argv,
  });
  // A run answering in the CLI's own session takes its new messages live (agent-exec.ts), not in a prompt.
  const fresh = input.newMessages && !plan.nativeAnswer ? (input.messages ?? []).slice(-input.newMessages) : [];
  for (const text of fresh) log({ source: 'drover', type: 'message', text: `steering message delivered in the prompt: ${text}` });
}

/** A run that was stopped is an error, whatever the CLI printed before. */
function throwIfStopped(input: RunAgentInput, { idle }: PreparedRun, result: ExecResult, signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledFailure('job cancelled; the agent was stopped');
  switch (result.end) {
    case 'cancelled':
      throw new CancelledFailure('job cancelled; the agent was stopped');
    case 'idle':
      throw new AppError('AgentIdle', `agent printed nothing for ${idle} and was stopped`);
    case 'timeout':
      throw new AppError('AgentTimeout', `agent ran longer than ${input.timeouts.agentHard} and was stopped`);
    case 'exit':
    case 'finished':
      break;
  }
}

/**
 * What a run that ended by itself came to: the backend's verdict on what the CLI printed, or, when it has
 * none, the exit code; then the question file.
 */
async function outcomeOf(
  deps: ActivityContext,
  input: RunAgentInput,
  { place, run, plan }: PreparedRun,
  { result, progress }: AgentEnd,
  log: JobLog,
): Promise<RunAgentOutput> {
  if (run.outputFile && run.readOutput) {
    const text = await readOutput(place.runDir, run.outputFile);
    if (text !== undefined) run.readOutput(text);
  }
  const sessionId = run.sessionId() ?? plan.resume ?? null;
  const usage = run.usage();
  const common = {
    lastEvent: progress.lastEvent,
    durationMs: result.durationMs,
    sessionId,
    ...(usage ? { usage, usageScope: run.usageScope ?? 'run' } : {}),
    ...unconfirmedOf(run),
  };
  const verdict = run.verdict({ exitCode: result.exitCode, finished: result.end === 'finished' });
  if (verdict?.outcome === 'failed') throw new AppError(verdict.type, `${verdict.message}; see drover logs ${input.jobId}`);
  if (verdict?.outcome === 'question') {
    log({ source: 'drover', type: 'question', text: verdict.question });
    // Redacted before it is cut: a secret cut in half would no longer be recognized.
    return {
      outcome: 'question',
      question: deps.redact(verdict.question).slice(0, QUESTION_LIMIT),
      native: true,
      exitCode: result.exitCode ?? 0,
      ...common,
    };
  }
  if (!verdict) throwIfExitFailed(input, result);

  if (input.answerer) {
    const answer = await answerOf(place.runDir, progress.lastEvent);
    return { outcome: 'done', ...(answer ? { answer } : {}), exitCode: result.exitCode ?? 0, ...common };
  }
  const question = await takeQuestion(place.runDir, input.worktree);
  if (question) log({ source: 'drover', type: 'question', text: question });
  // A question comes first: the request, if any, is cleared before the next run and must be made again.
  const subtasks = question ? undefined : await takeSubtasks(place.runDir, input.worktree);
  if (subtasks) log({ source: 'drover', type: 'subtasks', text: `asked for ${subtasks.length} subtask(s)` });
  return {
    outcome: question ? 'question' : subtasks ? 'subtasks' : 'done',
    ...(question ? { question } : {}),
    ...(subtasks ? { subtasks } : {}),
    exitCode: result.exitCode ?? 0,
    ...common,
  };
}

function throwIfExitFailed(input: RunAgentInput, result: ExecResult): void {
  if (result.exitCode === 126 || result.exitCode === 127) {
    throw new AppError('AgentCommandNotFound', `agent command could not be run (exit ${result.exitCode}); see drover logs ${input.jobId}`);
  }
  if (result.exitCode !== 0) {
    throw new AppError('AgentFailed', `agent exited with ${result.exitCode ?? result.signal}; see drover logs ${input.jobId}`);
  }
}
