import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { backendFor } from '../backends/registry.js';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import type { AgentHeartbeat, QA, RunAgentInput, RunAgentOutput } from '../shared/schemas.js';
import type { ActivityDeps } from './deps.js';
import { keepHeartbeating } from './heartbeat.js';
import { openJobLog } from './job-log.js';
import { DROVER_DIR, processTag } from './workspace.js';

const QuestionFile = z.object({ question: z.string().trim().min(1).max(4_000) });
const SUMMARY_LIMIT = 200;

export function createAgentActivities(deps: ActivityDeps) {
  return {
    /**
     * Runs the agent once in the worktree. It either finishes, or asks a person by writing
     * .drover/question.json and exiting 0; the workflow then waits for the answer and runs it again.
     */
    async runAgent(input: RunAgentInput): Promise<RunAgentOutput> {
      const log = openJobLog(deps.paths.jobLog(input.jobId));
      const files = await writeRunFiles(input);
      const backend = backendFor(input.agent);
      const invocation = backend.buildInvocation({
        agent: input.agent,
        prompt: files.prompt,
        worktree: input.worktree,
        droverEnv: files.env,
      });

      const tag = processTag(input.jobId);
      const leftovers = await deps.runtime.killTagged(tag);
      if (leftovers > 0) log({ source: 'drover', text: `killed ${leftovers} process(es) left by an earlier attempt` });
      const attempt = Context.current().info.attempt;
      log({ source: 'drover', text: `agent ${input.agent.kind} starting (revision ${input.revision}, attempt ${attempt})` });

      let lines = 0;
      let lastEvent: string | null = null;
      const stopBeats = keepHeartbeating((): AgentHeartbeat => ({ summary: lastEvent ?? 'starting', lines }));
      const result = await deps.runtime
        .exec({
          argv: invocation.argv,
          cwd: input.worktree,
          env: { ...deps.baseEnv, ...invocation.env },
          stdin: invocation.stdin,
          signal: Context.current().cancellationSignal,
          idleTimeoutMs: durationMs(input.timeouts.agentIdle),
          hardTimeoutMs: durationMs(input.timeouts.agentHard),
          tag,
          onLine: (stream, line) => {
            lines++;
            const event = backend.parseLine(stream, line);
            log({ source: 'agent', stream, ...(event ? { type: event.type } : {}), text: line });
            if (event) lastEvent = `${event.type}: ${event.text}`.slice(0, SUMMARY_LIMIT);
          },
        })
        .finally(stopBeats);
      log({ source: 'drover', text: `agent ended: ${result.end}, exit ${result.exitCode ?? result.signal}, ${result.durationMs} ms` });

      switch (result.end) {
        case 'cancelled':
          throw new CancelledFailure('job cancelled; the agent was stopped');
        case 'idle':
          throw new AppError('AgentIdle', `agent printed nothing for ${input.timeouts.agentIdle} and was stopped`);
        case 'timeout':
          throw new AppError('AgentTimeout', `agent ran longer than ${input.timeouts.agentHard} and was stopped`);
        case 'exit':
          break;
      }
      if (result.exitCode === 126 || result.exitCode === 127) {
        throw new AppError('AgentCommandNotFound', `agent command could not be run (exit ${result.exitCode}); see drover logs ${input.jobId}`);
      }
      if (result.exitCode !== 0) {
        throw new AppError('AgentFailed', `agent exited with ${result.exitCode ?? result.signal}; see drover logs ${input.jobId}`);
      }

      const question = await takeQuestion(files.questionFile);
      if (question) log({ source: 'drover', type: 'question', text: question });
      return {
        outcome: question ? 'question' : 'done',
        ...(question ? { question } : {}),
        exitCode: 0,
        lastEvent,
        durationMs: result.durationMs,
      };
    },
  };
}

/** Writes the prompt (and the latest answer and feedback) where the agent can read them. */
async function writeRunFiles(input: RunAgentInput) {
  const dir = join(input.worktree, DROVER_DIR);
  await mkdir(dir, { recursive: true });
  const questionFile = join(dir, 'question.json');
  await rm(questionFile, { force: true });
  const prompt = fullPrompt(input.prompt, input.questions, input.feedback);
  const promptFile = join(dir, 'prompt.md');
  await writeFile(promptFile, prompt);
  const env: Record<string, string> = {
    DROVER_PROMPT_FILE: promptFile,
    DROVER_QUESTION_FILE: questionFile,
    DROVER_WORKTREE: input.worktree,
    DROVER_REVISION: String(input.revision),
  };
  const last = input.questions.at(-1);
  if (last) {
    env.DROVER_ANSWER_FILE = join(dir, 'answer.md');
    env.DROVER_QUESTION = last.question;
    await writeFile(env.DROVER_ANSWER_FILE, last.answer);
  }
  if (input.feedback) {
    env.DROVER_FEEDBACK_FILE = join(dir, 'feedback.md');
    await writeFile(env.DROVER_FEEDBACK_FILE, input.feedback);
  }
  return { prompt, env, questionFile };
}

export function fullPrompt(prompt: string, questions: QA[], feedback?: string): string {
  const parts = [prompt.trim()];
  if (questions.length > 0) {
    parts.push('## Your questions and the answers', ...questions.map((qa) => `Q: ${qa.question}\nA: ${qa.answer}`));
  }
  if (feedback) parts.push('## Feedback on your previous attempt', feedback);
  return `${parts.join('\n\n')}\n`;
}

async function takeQuestion(file: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  await rm(file, { force: true });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('AgentProtocolError', `${DROVER_DIR}/question.json is not JSON`);
  }
  const parsed = QuestionFile.safeParse(json);
  if (!parsed.success) throw new AppError('AgentProtocolError', `${DROVER_DIR}/question.json needs {"question": "..."}`);
  return parsed.data.question;
}
