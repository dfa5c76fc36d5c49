/**
 * The agent's runs within one round: it runs, and each time it asks a person, the job waits durably for the
 * answer and runs it again.
 */
import { ApplicationFailure, condition, upsertMemo } from '@temporalio/workflow';
import { durationMs } from '../shared/duration.js';
import type { AgentUsage, JobInput, RunAgentOutput, Workspace } from '../shared/schemas.js';
import { agentOptions, hostActivities } from './activity-proxies.js';
import type { JobState } from './job-state.js';
import { notify } from './notify.js';
import { PENDING_QUESTION_MEMO } from './patches.js';
import { allowanceOf, requireBudget } from './budget.js';
import { deliverWhileRunning, hasUndelivered, messagesForRun, takeBack } from './steering.js';
import { askParent, asksParent } from './subtask-ask.js';
import { runSubtasks } from './subtasks.js';

const MAX_QUESTIONS = 20;

/**
 * Runs the agent; each time it asks a question, waits durably for the answer and runs it again. A person's
 * message that no run has taken yet gets one more run. Stops with BudgetExceeded once the budget is spent.
 */
export async function runAgentUntilDone(job: JobInput, state: JobState, ws: Workspace, feedback: string | undefined) {
  let answering: 'native' | 'file' | undefined;
  let note: string | undefined;
  for (;;) {
    requireBudget(job, state);
    state.enter('running_agent');
    const out = await runOnce(job, state, ws, feedback, answering, note);
    answering = undefined;
    note = undefined;
    state.lastAgentEvent = out.lastEvent;
    if (out.usage) state.addUsage(out.usage, out.usageScope === 'session' && out.sessionId === state.session);
    if (out.sessionId) state.session = out.sessionId;
    takeBack(state, out.unconfirmed);
    requireBudget(job, state, out.overBudget ? 'stopped the agent' : undefined);
    if (out.outcome === 'subtasks' && out.subtasks) {
      note = await runSubtasks(job, state, ws, out.subtasks);
      continue;
    }
    if (out.outcome !== 'question' || !out.question) {
      if (!hasUndelivered(state)) return;
      // A run for the messages alone: the round's feedback was the last run's to act on, not this one's.
      feedback = undefined;
      continue;
    }
    if (state.questions.length >= MAX_QUESTIONS) {
      throw ApplicationFailure.create({
        type: 'AgentProtocolError',
        message: `the agent asked more than ${MAX_QUESTIONS} questions`,
        nonRetryable: true,
      });
    }

    if (asksParent(job)) await askParent(job, state, ws, out.question, askPerson);
    else await askPerson(job, state, out.question);
    answering = out.native ? 'native' : 'file';
  }
}

/** One run of the agent, with the messages that arrive meanwhile handed to its live session. */
async function runOnce(
  job: JobInput,
  state: JobState,
  ws: Workspace,
  feedback: string | undefined,
  answering: 'native' | 'file' | undefined,
  note?: string,
): Promise<RunAgentOutput> {
  const summary = `run ${job.agent.kind} agent, revision ${state.revision}, round ${state.questions.length + 1}`;
  const run = hostActivities(job, ws.hostQueue, summary, agentOptions(job)).runAgent({
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
    ...(note ? { note } : {}),
    ...messagesForRun(state),
    ...allowanceOf(job, state),
    ...(state.sessionBaseline() ? { sessionSpent: state.sessionBaseline() as AgentUsage } : {}),
  });
  let running = true;
  const live = deliverWhileRunning(job, state, ws, () => running);
  // Handled from the start: a cancelled job rejects it in the same activation as the run, before the catch below.
  live.catch(() => undefined);
  try {
    const out = await run;
    running = false;
    await live;
    return out;
  } catch (err) {
    running = false;
    // The run's own failure is the job's; a message still in flight stays undelivered.
    throw err;
  }
}

/** Waits durably for a person's answer to `question`; it joins the job's questions (later prompts carry them). */
export async function askPerson(job: JobInput, state: JobState, question: string): Promise<string> {
  state.pendingQuestion = question;
  state.pendingAnswer = null;
  // The memo lets `drover status` and `drover list` show the question even when no worker answers queries.
  if (state.style.has(PENDING_QUESTION_MEMO)) upsertMemo({ pendingQuestion: question });
  state.enter('waiting_for_human');
  await notify(job, state, 'waiting_for_human', { question });
  const answered = await condition(() => state.pendingAnswer !== null, durationMs(job.timeouts.humanAnswer), {
    summary: `waiting for an answer to: ${question.slice(0, 120)}`,
  });
  if (!answered) {
    throw ApplicationFailure.create({
      type: 'HumanTimeout',
      message: `no answer within ${job.timeouts.humanAnswer} to: ${question}`,
      nonRetryable: true,
    });
  }
  const answer = state.pendingAnswer ?? '';
  state.questions.push({ question, answer });
  state.pendingQuestion = null;
  state.pendingAnswer = null;
  if (state.style.has(PENDING_QUESTION_MEMO)) upsertMemo({ pendingQuestion: null });
  return answer;
}
