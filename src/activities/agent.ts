import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { backendFor } from '../backends/registry.js';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import { AgentHeartbeat, type QA, type RunAgentInput, type RunAgentOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { createSemaphore } from './semaphore.js';
import { keepHeartbeating } from './heartbeat.js';
import type { JobLog } from './job-log.js';
import { processTag } from '../shared/ids.js';
import { requireJobRepo } from './workspace.js';
import { placementFor } from './placement.js';
import { clearOutput, readOutput, takeQuestion, writeRunFiles } from './run-files.js';

const SUMMARY_LIMIT = 200;
const QUESTION_LIMIT = 4_000;
const SPAWN_ERRORS = new Set(['ENOENT', 'EACCES', 'ENOTDIR']);

export function createAgentActivities(deps: ActivityContext) {
  const agents = createSemaphore(deps.maxConcurrentAgents);
  return {
    /**
     * Runs the agent once in the worktree. It either finishes, or asks a person by writing its question file
     * and exiting 0; the workflow then waits for the answer and runs it again.
     */
    async runAgent(input: RunAgentInput): Promise<RunAgentOutput> {
      const log = deps.jobLog(input.jobId);
      requireJobRepo(deps, input.jobId, input.worktree);
      const ctx = Context.current();
      // Waiting for a free agent slot happens here, heartbeating, rather than in the task queue, where a
      // long wait would look like a dead worker.
      const waitBeats = keepHeartbeating(
        (): AgentHeartbeat => ({ summary: `waiting for a free agent slot on ${deps.workerId}`, lines: 0 }),
      );
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

  async function runOnce(input: RunAgentInput, log: JobLog): Promise<RunAgentOutput> {
    const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
    const prompt = fullPrompt(input.prompt, input.questions, input.feedback);
    const droverEnv = await writeRunFiles(place.runDir, input, prompt);
    const backend = backendFor(input.agent);
    const settings = (place.runtime.kind === 'docker' ? deps.containerAgents : deps.agents)[input.agent.kind];
    const ctx = Context.current();
    const plan = planRun(input, prompt, backend.capabilities.resume, ctx.info.attempt, ctx.info.heartbeatDetails);
    const run = backend.start({
      agent: input.agent,
      settings: settings as never,
      prompt: plan.prompt,
      worktree: input.worktree,
      droverEnv,
      ...(plan.resume ? { resume: plan.resume } : {}),
      ...(plan.nativeAnswer ? { nativeAnswer: plan.nativeAnswer } : {}),
    });
    const { invocation } = run;

    const tag = processTag(input.jobId);
    // A first attempt in a container has nothing to clean up (the container is the job's); on the host
    // another attempt's orphans may share nothing but the tag, so look every time.
    const leftovers = place.runtime.kind === 'host' || ctx.info.attempt > 1 ? await place.runtime.killTagged(tag) : 0;
    if (leftovers > 0) log({ source: 'drover', text: `killed ${leftovers} process(es) left by an earlier attempt` });
    // After the leftovers are gone: none of them can write the file this run will read.
    if (run.outputFile) await clearOutput(place.runDir, run.outputFile);
    log({
      source: 'drover',
      text: `agent ${input.agent.kind} starting (revision ${input.revision}, attempt ${ctx.info.attempt}${plan.resume ? `, resuming session ${plan.resume}` : ''}${plan.note ? `, ${plan.note}` : ''})`,
      argv: invocation.argv,
    });

    let lines = 0;
    let lastEvent: string | null = null;
    const recent: string[] = [];
    let sawFinal = false;
    let lingerTimer: NodeJS.Timeout | undefined;
    const heartbeat = (): AgentHeartbeat => {
      const sessionId = run.sessionId() ?? plan.resume;
      return { summary: lastEvent ?? 'starting', lines, ...(sessionId ? { sessionId } : {}), recent: [...recent] };
    };
    const stopBeats = keepHeartbeating(heartbeat);
    const signal = ctx.cancellationSignal;
    const idle = input.timeouts.agentIdle ?? settings.idleTimeout;
    let onLine: (stream: 'stdout' | 'stderr', line: string) => void = () => undefined;
    const result = await place.runtime
      .exec({
        argv: invocation.argv,
        cwd: input.worktree,
        env: place.env(invocation.env),
        stdin: invocation.stdin,
        keepStdinOpen: invocation.keepStdinOpen,
        signal,
        idleTimeoutMs: durationMs(idle),
        hardTimeoutMs: durationMs(input.timeouts.agentHard),
        tag,
        onStart: (io) => {
          onLine = (stream, line) => {
            lines++;
            const reading = run.read(stream, line);
            // The raw line, as the CLI printed it, with what Drover read in it (rendered by `drover logs`).
            log({
              source: 'agent',
              stream,
              ...(reading.events[0] ? { type: reading.events[0].type } : {}),
              text: line,
              events: reading.events,
            });
            for (const event of reading.events) {
              // Redacted here, not only on return: the heartbeat carries it to the UI while the agent runs.
              lastEvent = deps.redact(`${event.type}: ${event.text}`).slice(0, SUMMARY_LIMIT);
              recent.push(lastEvent);
              if (recent.length > 5) recent.shift();
            }
            for (const reply of reading.replies ?? []) io.write(reply);
            if (reading.final && !sawFinal) {
              sawFinal = true;
              // The CLI has said all it will say. Some never exit after that (a known hang of several CLIs):
              // close their input and stop them if they linger.
              io.closeStdin();
              lingerTimer = setTimeout(() => {
                log({ source: 'drover', text: `agent still running ${settings.afterResultGrace} after its final result; stopping it` });
                io.finish();
              }, durationMs(settings.afterResultGrace));
            }
          };
        },
        onLine: (stream, line) => onLine(stream, line),
      })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code && SPAWN_ERRORS.has(err.code)) {
          throw new AppError('AgentCommandNotFound', `agent command ${invocation.argv[0]} could not be started (${err.code})`);
        }
        throw err;
      })
      .finally(() => {
        stopBeats();
        clearTimeout(lingerTimer);
      });
    log({ source: 'drover', text: `agent ended: ${result.end}, exit ${result.exitCode ?? result.signal}, ${result.durationMs} ms` });

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
    if (run.outputFile && run.readOutput) {
      const text = await readOutput(place.runDir, run.outputFile);
      if (text !== undefined) run.readOutput(text);
    }
    const sessionId = run.sessionId() ?? plan.resume ?? null;
    const usage = run.usage();
    const common = {
      lastEvent,
      durationMs: result.durationMs,
      sessionId,
      ...(usage ? { usage, usageScope: run.usageScope ?? 'run' } : {}),
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
    if (!verdict) {
      if (result.exitCode === 126 || result.exitCode === 127) {
        throw new AppError(
          'AgentCommandNotFound',
          `agent command could not be run (exit ${result.exitCode}); see drover logs ${input.jobId}`,
        );
      }
      if (result.exitCode !== 0) {
        throw new AppError('AgentFailed', `agent exited with ${result.exitCode ?? result.signal}; see drover logs ${input.jobId}`);
      }
    }

    const question = await takeQuestion(place.runDir, input.worktree);
    if (question) log({ source: 'drover', type: 'question', text: question });
    return {
      outcome: question ? 'question' : 'done',
      ...(question ? { question } : {}),
      exitCode: result.exitCode ?? 0,
      ...common,
    };
  }
}

interface RunPlan {
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
  if (last && input.answering === 'file') return `The answer to your question "${last.question}" is:\n\n${last.answer}\n`;
  if (input.feedback && !input.answering) return `## Feedback on your previous attempt\n\n${input.feedback}\n`;
  return 'Continue the task.\n';
}

export function fullPrompt(prompt: string, questions: QA[], feedback?: string): string {
  const parts = [prompt.trim()];
  if (questions.length > 0) {
    parts.push('## Your questions and the answers', ...questions.map((qa) => `Q: ${qa.question}\nA: ${qa.answer}`));
  }
  if (feedback) parts.push('## Feedback on your previous attempt', feedback);
  return `${parts.join('\n\n')}\n`;
}
