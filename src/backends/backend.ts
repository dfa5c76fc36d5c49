import type { AgentSpec } from '../shared/schemas.js';

/** One shape for what any agent prints, whatever its CLI. */
export interface AgentEvent {
  type: 'message' | 'tool_use' | 'file_change' | 'command' | 'question' | 'usage' | 'error';
  text: string;
}

export interface AgentRequest<S extends AgentSpec = AgentSpec> {
  agent: S;
  /** The whole prompt for this run: the job's prompt plus feedback and earlier answers. */
  prompt: string;
  worktree: string;
  /** DROVER_* variables describing this run (prompt file, answer file and the like). */
  droverEnv: Record<string, string>;
}

export interface AgentInvocation {
  argv: string[];
  env: Record<string, string>;
  stdin: string;
}

/** Backends only translate: they build the invocation and read the output; runtimes run it. */
export interface AgentBackend<S extends AgentSpec = AgentSpec> {
  readonly kind: S['kind'];
  readonly capabilities: { resume: boolean; nativeQuestions: boolean; costReporting: boolean; needsNetwork: boolean };
  buildInvocation(req: AgentRequest<S>): AgentInvocation;
  parseLine(stream: 'stdout' | 'stderr', line: string): AgentEvent | undefined;
}
