import type { AgentKind, AgentSpec } from '../shared/schemas.js';
import type { AgentBackend } from './backend.js';
import { claudeCodeBackend } from './claude-code-backend.js';
import { codexBackend } from './codex-backend.js';
import { commandBackend } from './command-backend.js';
import { openCodeBackend } from './opencode-backend.js';
import { miniSweAgentBackend } from './mini-swe-agent-backend.js';
import { openHandsBackend } from './openhands-backend.js';

const BACKENDS: { [K in AgentKind]: AgentBackend<Extract<AgentSpec, { kind: K }>> } = {
  command: commandBackend,
  'claude-code': claudeCodeBackend,
  codex: codexBackend,
  opencode: openCodeBackend,
  'mini-swe-agent': miniSweAgentBackend,
  openhands: openHandsBackend,
};

export function backendFor<S extends AgentSpec>(agent: S): AgentBackend<S> {
  return BACKENDS[agent.kind as S['kind']] as unknown as AgentBackend<S>;
}

export function backendOfKind(kind: AgentKind): AgentBackend {
  return BACKENDS[kind] as unknown as AgentBackend;
}
