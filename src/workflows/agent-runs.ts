/**
 * The agent's runs within one round: it runs, and each time it asks a person, the job waits durably for the
 * answer and runs it again.
 */
import { ApplicationFailure, condition, upsertMemo } from '@temporalio/workflow';
import { durationMs } from '../shared/duration.js';
import type { JobInput, Workspace } from '../shared/schemas.js';
import { agentOptions, hostActivities } from './activity-proxies.js';
import type { JobState } from './job-state.js';
import { PENDING_QUESTION_MEMO } from './patches.js';

const MAX_QUESTIONS = 20;

/** Runs the agent; each time it asks a question, waits durably for the answer and runs it again. */
export async function runAgentUntilDone(job: JobInput, state: JobState, ws: Workspace, feedback: string | undefined) {
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

    await askPerson(job, state, out.question);
    answering = out.native ? 'native' : 'file';
  }
}

/** Waits durably for a person's answer to `question`; it joins the job's questions (later prompts carry them). */
export async function askPerson(job: JobInput, state: JobState, question: string): Promise<string> {
  state.pendingQuestion = question;
  state.pendingAnswer = null;
  // The memo lets `drover status` and `drover list` show the question even when no worker answers queries.
  if (state.style.has(PENDING_QUESTION_MEMO)) upsertMemo({ pendingQuestion: question });
  state.enter('waiting_for_human');
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
