import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { backendFor } from '../backends/registry.js';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import type { AgentHeartbeat, QA, RunAgentInput, RunAgentOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { createSemaphore } from './semaphore.js';
import { keepHeartbeating } from './heartbeat.js';
import { openJobLog } from './job-log.js';
import { DROVER_DIR, processTag, requireWorktree } from './workspace.js';

const QuestionFile = z.object({ question: z.string().trim().min(1).max(4_000) });
const SUMMARY_LIMIT = 200;
const SPAWN_ERRORS = new Set(['ENOENT', 'EACCES', 'ENOTDIR']);

export function createAgentActivities(deps: ActivityContext) {
  const agents = createSemaphore(deps.maxConcurrentAgents);
  return {
    /**
     * Runs the agent once in the worktree. It either finishes, or asks a person by writing
     * .drover/question.json and exiting 0; the workflow then waits for the answer and runs it again.
     */
    async runAgent(input: RunAgentInput): Promise<RunAgentOutput> {
      const log = openJobLog(deps.paths.jobLog(input.jobId));
      await requireWorktree(input.worktree);
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
        return await runOnce(input, log);
      } finally {
        release();
      }
    },
  };

  async function runOnce(input: RunAgentInput, log: ReturnType<typeof openJobLog>): Promise<RunAgentOutput> {
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
    const signal = Context.current().cancellationSignal;
    const result = await deps.runtime
      .exec({
        argv: invocation.argv,
        cwd: input.worktree,
        env: { ...deps.baseEnv, ...invocation.env },
        stdin: invocation.stdin,
        signal,
        idleTimeoutMs: durationMs(input.timeouts.agentIdle),
        hardTimeoutMs: durationMs(input.timeouts.agentHard),
        tag,
        onLine: (stream, line) => {
          lines++;
          const event = backend.parseLine(stream, line);
          log({ source: 'agent', stream, ...(event ? { type: event.type } : {}), text: line });
          // Redacted here, not only on return: the heartbeat carries it to the UI while the agent runs.
          if (event) lastEvent = deps.redact(`${event.type}: ${event.text}`).slice(0, SUMMARY_LIMIT);
        },
      })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code && SPAWN_ERRORS.has(err.code)) {
          throw new AppError('AgentCommandNotFound', `agent command ${invocation.argv[0]} could not be started (${err.code})`);
        }
        throw err;
      })
      .finally(stopBeats);
    log({ source: 'drover', text: `agent ended: ${result.end}, exit ${result.exitCode ?? result.signal}, ${result.durationMs} ms` });

    if (signal.aborted) throw new CancelledFailure('job cancelled; the agent was stopped');
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
  }
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
