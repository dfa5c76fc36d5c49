import { AgentHeartbeat, type QA, type RunAgentInput } from '../shared/schemas.js';

export interface RunPlan {
  prompt: string;
  resume?: string;
  nativeAnswer?: { question: string; answer: string };
  note?: string;
}

/**
 * Decides how this run starts: a fresh session with the whole task, the workflow's session continued with a
 * follow-up (an answer, review feedback), or, on a retry after a crash, the dead attempt's session resumed
 * (its id came in the heartbeat) or a fresh start with a note of what that attempt did.
 */
export function planRun(input: RunAgentInput, full: string, canResume: boolean, attempt: number, details: unknown): RunPlan {
  const previous = attempt > 1 ? AgentHeartbeat.safeParse(details) : undefined;
  const crashed = previous?.success ? previous.data : undefined;
  const last = input.questions.at(-1);
  const nativeAnswer = input.answering === 'native' && last ? { nativeAnswer: last } : {};
  if (canResume && crashed?.sessionId) {
    return {
      prompt:
        'Your previous run was interrupted before it finished. Continue the task from where you left off; the files you changed are still in place.',
      resume: crashed.sessionId,
      ...nativeAnswer,
      note: 'continuing the interrupted session',
    };
  }
  if (canResume && input.session) {
    return { prompt: followUp(input), resume: input.session, ...nativeAnswer };
  }
  if (crashed && (crashed.recent?.length ?? 0) > 0) {
    const done = (crashed.recent ?? []).map((r) => `- ${r}`).join('\n');
    return {
      prompt: `${full}\n## Note from Drover\n\nAn earlier attempt at this task was interrupted. Its files are still in the worktree. The last things it did:\n${done}\n`,
      note: 'restarting with a handoff note',
    };
  }
  return { prompt: full };
}

/**
 * What a resumed session is told. The session remembers the task and what was said before, so only the new
 * thing: the answer to its question, or else the round's feedback (said once, at the round's first run).
 */
function followUp(input: RunAgentInput): string {
  const last = input.questions.at(-1);
  const fresh = input.newMessages ? (input.messages ?? []).slice(-input.newMessages) : [];
  const said = fresh.length > 0 ? `\n${messagesSection(fresh)}\n` : '';
  if (input.note && !input.answering) return `## Your subtasks\n\n${input.note}\n${said}`;
  if (last && input.answering === 'file') return `The answer to your question "${last.question}" is:\n\n${last.answer}\n${said}`;
  if (input.feedback && !input.answering) return `## Feedback on your previous attempt\n\n${input.feedback}\n${said}`;
  return fresh.length > 0 ? `${said.trimStart()}` : 'Continue the task.\n';
}

/** A person's steering messages, as the agent reads them. */
function messagesSection(messages: string[]): string {
  return ['## Messages from the person who runs this job', ...messages.map((m) => `- ${m.replaceAll('\n', '\n  ')}`)].join('\n\n');
}

export function fullPrompt(prompt: string, questions: QA[], feedback?: string, messages: string[] = []): string {
  const parts = [prompt.trim()];
  if (questions.length > 0) {
    parts.push('## Your questions and the answers', ...questions.map((qa) => `Q: ${qa.question}\nA: ${qa.answer}`));
  }
  if (messages.length > 0) parts.push(messagesSection(messages));
  if (feedback) parts.push('## Feedback on your previous attempt', feedback);
  return `${parts.join('\n\n')}\n`;
}
