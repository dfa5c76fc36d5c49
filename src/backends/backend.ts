import type { AgentsConfig } from '../config/schema.js';
import type { ErrorType } from '../shared/errors.js';
import type { AgentKind, AgentSpec, AgentUsage } from '../shared/schemas.js';

/** One shape for what any agent prints, whatever its CLI. */
export interface AgentEvent {
  type: 'message' | 'tool_use' | 'file_change' | 'command' | 'question' | 'usage' | 'error' | 'session';
  text: string;
}

export type SettingsFor<K extends AgentKind> = AgentsConfig[K];

export interface AgentRequest<S extends AgentSpec = AgentSpec> {
  agent: S;
  /** The worker's settings for this backend (config file). */
  settings: SettingsFor<S['kind']>;
  /** What to tell the agent in this run: the whole task, or a follow-up when a session is resumed. */
  prompt: string;
  worktree: string;
  /** DROVER_* variables describing this run (prompt file, answer file and the like). */
  droverEnv: Record<string, string>;
  /** Continue this CLI session instead of starting a new one. */
  resume?: string;
  /** The answer to a question the CLI asked through its own tool in the resumed session. */
  nativeAnswer?: { question: string; answer: string };
}

export interface AgentInvocation {
  argv: string[];
  env: Record<string, string>;
  stdin: string;
  /** The backend talks to the CLI over stdin while it runs (replies from `read`). */
  keepStdinOpen: boolean;
}

export interface LineReading {
  events: AgentEvent[];
  /** Lines to write to the CLI's stdin. */
  replies?: string[];
  /** The CLI has given its final result; it should exit now and is stopped if it lingers. */
  final?: boolean;
  /** Steering messages the CLI has now taken into its session. */
  delivered?: string[];
}

export type AgentVerdict =
  | { outcome: 'done' }
  | { outcome: 'question'; question: string }
  | { outcome: 'failed'; type: ErrorType; message: string };

/** One run of a CLI, read line by line. Translation only: no processes, no I/O. */
export interface AgentRun {
  readonly invocation: AgentInvocation;
  read(stream: 'stdout' | 'stderr', line: string): LineReading;
  /** The CLI's session id, once it has said it. */
  sessionId(): string | undefined;
  usage(): AgentUsage | undefined;
  /**
   * A file the CLI writes in the run's output directory ($DROVER_OUTPUT_DIR), handed to readOutput after
   * the run (read without following a link, size-bounded) and before usage and verdict are asked.
   */
  readonly outputFile?: string;
  readOutput?(text: string): void;
  /** 'session' when the CLI reports its session's running total rather than this run's usage. */
  readonly usageScope?: 'run' | 'session';
  /**
   * What the run came to, judged from what the CLI printed, once it has ended. `undefined` leaves the
   * judgement to the exit code (and the .drover/question.json protocol).
   */
  verdict(end: { exitCode: number | null; finished: boolean }): AgentVerdict | undefined;
  /**
   * A person's message for the CLI while it runs: the lines to write to its stdin, or undefined when it
   * takes none now (it has given its final result). Absent: the CLI reads no input while it runs.
   */
  steer?(text: string): string[] | undefined;
  /** Messages `steer` wrote that the CLI has not yet confirmed taking. */
  unconfirmed?(): string[];
  /** What the run has spent so far, from the model calls in its output; for stopping a run over budget. */
  liveUsage?(): AgentUsage | undefined;
}

export interface AgentCapabilities {
  /** A later run can continue the CLI's session (questions, revisions, retries after a crash). */
  resume: boolean;
  /** The CLI has its own question tool that Drover routes to a person. */
  nativeQuestions: boolean;
  costReporting: boolean;
  /** The CLI needs to reach a model API over the network. */
  needsNetwork: boolean;
}

/** Backends only translate: they build the invocation and read the output; runtimes run it. */
export interface AgentBackend<S extends AgentSpec = AgentSpec> {
  readonly kind: S['kind'];
  readonly capabilities: AgentCapabilities;
  /** Arguments that make the CLI print its version (for the worker's check at start). */
  readonly versionArgs: readonly string[];
  start(req: AgentRequest<S>): AgentRun;
}

/** Parses a JSON line, or undefined: CLIs mix the odd plain line into their JSON streams. */
export function jsonLine(line: string): Record<string, any> | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A token or turn count from CLI output: a whole number, 0 when absent or odd. */
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : 0);

export const clip = (text: string, max = 300): string => {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

/** Maps an HTTP status from the model API to Drover's failure types. */
export function modelFailureType(status: number | null | undefined, hint = ''): ErrorType {
  if (status === 401 || status === 403 || /auth|api key|unauthori[sz]ed|forbidden/i.test(hint)) return 'AgentAuthFailed';
  if (status === 429 || /rate.?limit|too many requests|quota/i.test(hint)) return 'AgentRateLimited';
  if ((status && status >= 500) || /server.?error|overloaded|internal error|high demand|temporar|\b5\d\d\b/i.test(hint))
    return 'AgentModelError';
  return 'AgentFailed';
}
