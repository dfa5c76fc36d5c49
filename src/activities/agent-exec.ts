/** Running an agent's CLI in the job's runtime: its lines read, logged, answered and heartbeated as they come. */
import type { AgentRun } from '../backends/backend.js';
import type { AgentsConfig } from '../config/schema.js';
import type { ExecIO, ExecResult } from '../runtimes/runtime.js';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import type { AgentHeartbeat, RunAgentInput } from '../shared/schemas.js';
import type { RunPlan } from './agent-plan.js';
import type { ActivityContext } from './deps.js';
import { keepHeartbeating } from './heartbeat.js';
import type { JobLog } from './job-log.js';
import type { Placement } from './placement.js';
import { type LiveRun, registerLiveRun } from './live-runs.js';

const SUMMARY_LIMIT = 200;
const SPAWN_ERRORS = new Set(['ENOENT', 'EACCES', 'ENOTDIR']);

type AgentSettings = AgentsConfig[keyof AgentsConfig];

/** One run of the agent before it starts: where it runs, the backend's run of it, and how this attempt begins. */
export interface PreparedRun {
  place: Placement;
  run: AgentRun;
  plan: RunPlan;
  settings: AgentSettings;
  tag: string;
  /** How long the CLI may print nothing before it is stopped. */
  idle: string;
}

/** What the CLI has printed so far: the heartbeat reports it, and the run's result keeps its last event. */
export interface Progress {
  lines: number;
  lastEvent: string | null;
  recent: string[];
  sawFinal: boolean;
  lingerTimer?: NodeJS.Timeout;
  /** The run was stopped because it spent its allowance. */
  overBudget?: string;
}

export interface AgentEnd {
  result: ExecResult;
  progress: Progress;
}

/** Runs the CLI in the job's runtime until it ends, heartbeating its progress. */
export async function execAgent(
  deps: ActivityContext,
  input: RunAgentInput,
  prepared: PreparedRun,
  signal: AbortSignal,
  log: JobLog,
): Promise<AgentEnd> {
  const { place, run, plan } = prepared;
  const { invocation } = run;
  const progress: Progress = { lines: 0, lastEvent: null, recent: [], sawFinal: false };
  const stopBeats = keepHeartbeating((): AgentHeartbeat => heartbeatOf(progress, run, plan));
  let onLine: (stream: 'stdout' | 'stderr', line: string) => void = () => undefined;
  let unregister: () => void = () => {};
  const wallMs = input.allowance?.wallMs;
  const hardMs = durationMs(input.timeouts.agentHard);
  const result = await place.runtime
    .exec({
      argv: invocation.argv,
      cwd: input.worktree,
      env: place.env(invocation.env),
      stdin: invocation.stdin,
      keepStdinOpen: invocation.keepStdinOpen,
      signal,
      idleTimeoutMs: durationMs(prepared.idle),
      hardTimeoutMs: wallMs !== undefined ? Math.max(1_000, Math.min(hardMs, wallMs)) : hardMs,
      tag: prepared.tag,
      onStart: (io) => {
        onLine = lineReader(deps, input, prepared, progress, io, log);
        unregister = registerLiveRun(deps.liveRuns, input.jobId, liveRun(input, prepared, progress, io, log));
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
      unregister();
      stopBeats();
      clearTimeout(progress.lingerTimer);
    });
  if (result.end === 'timeout' && wallMs !== undefined && wallMs < hardMs) progress.overBudget = 'the job ran out of wall time';
  return { result, progress };
}

/** How steering messages reach this run: written into its stdin, when its CLI takes them. */
function liveRun(input: RunAgentInput, { run, plan }: PreparedRun, progress: Progress, io: ExecIO, log: JobLog): LiveRun {
  const steer = (text: string): boolean => {
    const lines = progress.sawFinal ? undefined : run.steer?.(text);
    if (!lines) return false;
    for (const line of lines) io.write(line);
    return true;
  };
  // A run that answers a question in the CLI's own session sends no prompt: its new messages go in this way.
  if (plan.nativeAnswer && input.messages && input.newMessages) {
    for (const text of input.messages.slice(-input.newMessages)) {
      if (steer(text)) log({ source: 'drover', type: 'message', text: `steering message written into the session: ${text}` });
    }
  }
  return { steer };
}

/** Stops a run whose model calls so far have spent what it may spend. */
function stopIfOverAllowance(input: RunAgentInput, run: AgentRun, progress: Progress, io: ExecIO, log: JobLog): void {
  const allow = input.allowance;
  const used = allow && !progress.overBudget ? run.liveUsage?.() : undefined;
  if (!allow || !used) return;
  const tokens = used.inputTokens + used.outputTokens;
  const over =
    allow.tokens !== undefined && tokens >= allow.tokens
      ? `${tokens} tokens of the ${allow.tokens} left`
      : allow.turns !== undefined && used.turns >= allow.turns
        ? `${used.turns} turns of the ${allow.turns} left`
        : undefined;
  if (!over) return;
  progress.overBudget = over;
  log({ source: 'drover', text: `stopping the agent: it has spent its budget (${over})` });
  io.finish();
}

function heartbeatOf(progress: Progress, run: AgentRun, plan: RunPlan): AgentHeartbeat {
  const sessionId = run.sessionId() ?? plan.resume;
  return {
    summary: progress.lastEvent ?? 'starting',
    lines: progress.lines,
    ...(sessionId ? { sessionId } : {}),
    recent: [...progress.recent],
  };
}

function lineReader(
  deps: ActivityContext,
  input: RunAgentInput,
  { run, settings }: PreparedRun,
  progress: Progress,
  io: ExecIO,
  log: JobLog,
): (stream: 'stdout' | 'stderr', line: string) => void {
  return (stream, line) => {
    progress.lines++;
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
      const summary = deps.redact(`${event.type}: ${event.text}`).slice(0, SUMMARY_LIMIT);
      progress.lastEvent = summary;
      progress.recent.push(summary);
      if (progress.recent.length > 5) progress.recent.shift();
    }
    for (const reply of reading.replies ?? []) io.write(reply);
    for (const text of reading.delivered ?? []) log({ source: 'drover', type: 'message', text: `steering message delivered: ${text}` });
    stopIfOverAllowance(input, run, progress, io, log);
    if (reading.final && !progress.sawFinal) {
      progress.sawFinal = true;
      // The CLI has said all it will say. Some never exit after that (a known hang of several CLIs):
      // close their input and stop them if they linger.
      io.closeStdin();
      progress.lingerTimer = setTimeout(() => {
        log({ source: 'drover', text: `agent still running ${settings.afterResultGrace} after its final result; stopping it` });
        io.finish();
      }, durationMs(settings.afterResultGrace));
    }
  };
}
