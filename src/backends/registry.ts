import type { AgentSpec } from '../shared/schemas.js';
import type { AgentBackend } from './backend.js';
import { commandBackend } from './command-backend.js';

const BACKENDS: { [K in AgentSpec['kind']]: AgentBackend<Extract<AgentSpec, { kind: K }>> } = {
  command: commandBackend,
};

export function backendFor<S extends AgentSpec>(agent: S): AgentBackend<S> {
  return BACKENDS[agent.kind as S['kind']] as unknown as AgentBackend<S>;
}
