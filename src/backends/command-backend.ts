import type { CommandAgent } from '../shared/schemas.js';
import type { AgentBackend } from './backend.js';

/** Any command: the prompt arrives on stdin and in $DROVER_PROMPT_FILE; every output line is a message. */
export const commandBackend: AgentBackend<CommandAgent> = {
  kind: 'command',
  capabilities: { resume: false, nativeQuestions: false, costReporting: false, needsNetwork: false },
  versionArgs: [],
  start({ agent, prompt, droverEnv }) {
    const argv = agent.argv ?? ['bash', '-c', agent.command ?? ''];
    return {
      invocation: { argv, env: { ...agent.env, ...droverEnv }, stdin: prompt, keepStdinOpen: false },
      read: (stream, line) => ({ events: line.trim() === '' ? [] : [{ type: stream === 'stderr' ? 'error' : 'message', text: line }] }),
      sessionId: () => undefined,
      usage: () => undefined,
      verdict: () => undefined,
    };
  },
};
