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
  const result = await place.runtime
    .exec({
      argv: invocation.argv,
      cwd: input.worktree,
      env: place.env(invocation.env),
      stdin: invocation.stdin,
      keepStdinOpen: invocation.keepStdinOpen,
      signal,
      idleTimeoutMs: durationMs(prepared.idle),
      hardTimeoutMs: durationMs(input.timeouts.agentHard),
      tag: prepared.tag,
      onStart: (io) => {
        onLine = lineReader(deps, prepared, progress, io, log);
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
      clearTimeout(progress.lingerTimer);
    });
  return { result, progress };
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
