import type { CommandAgent } from '../shared/schemas.js';
import type { AgentBackend } from './backend.js';

/** Any command: the prompt arrives on stdin and in $DROVER_PROMPT_FILE; every output line is a message. */
export const commandBackend: AgentBackend<CommandAgent> = {
  kind: 'command',
  capabilities: { resume: false, nativeQuestions: false, costReporting: false, needsNetwork: false },
  buildInvocation({ agent, prompt, droverEnv }) {
    const argv = agent.argv ?? ['bash', '-c', agent.command ?? ''];
    return { argv, env: { ...agent.env, ...droverEnv }, stdin: prompt };
  },
  parseLine(stream, line) {
    if (line.trim() === '') return undefined;
    return { type: stream === 'stderr' ? 'error' : 'message', text: line };
  },
};
