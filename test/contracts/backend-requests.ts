/**
 * Requests as the worker makes them, for each backend: the settings the transcripts were recorded with, a
 * known prompt and DROVER_* variables. The recorder starts the real CLIs from these too, so what the
 * contract replays is what these requests ran.
 */
import type { AgentRequest } from '../../src/backends/backend.js';
import { AgentsConfig } from '../../src/config/schema.js';
import type { AgentKind, AgentSpec } from '../../src/shared/schemas.js';

export const PROMPT = 'Write a greeting to greeting.txt, then show it.';
export const FOLLOW_UP = 'Also add a goodbye line to greeting.txt.';

export const DROVER_ENV: Readonly<Record<string, string>> = {
  DROVER_PROMPT_FILE: '/run/drover/prompt.md',
  DROVER_QUESTION_FILE: '/run/drover/ask/question.json',
  DROVER_OUTPUT_DIR: '/run/drover/out',
  DROVER_WORKTREE: '/work/tree',
  DROVER_REVISION: '0',
};

/**
 * The worker's variables for the CLI (settings env; a command's own env): one collides with a DROVER_*
 * variable, which must win, and one is a credential, which belongs in the environment and nowhere else.
 */
export const SETTINGS_ENV: Readonly<Record<string, string>> = {
  CONTRACT_SETTING: 'from-the-worker-settings',
  CONTRACT_TOKEN: 'sk-contract-settings-token-7e1f',
  DROVER_WORKTREE: '/not/the/worktree',
};

const settings = AgentsConfig.parse({
  // Bash allowed up front: the scripted model runs a command, and nobody is there to grant it.
  'claude-code': { model: 'claude-sonnet-4-5', allowedTools: ['Bash'], env: SETTINGS_ENV },
  codex: { env: SETTINGS_ENV },
  opencode: { model: 'scripted/scripted-model', env: SETTINGS_ENV },
  'mini-swe-agent': { model: 'openai/scripted-model', env: SETTINGS_ENV },
  openhands: { model: 'openai/scripted-model', env: SETTINGS_ENV },
});

type SpecOf<K extends AgentKind> = Extract<AgentSpec, { kind: K }>;

export type RequestFor<S extends AgentSpec = AgentSpec> = (overrides?: Partial<AgentRequest<S>>) => AgentRequest<S>;

function requestFor<K extends AgentKind>(agent: SpecOf<K>): RequestFor<SpecOf<K>> {
  return (overrides = {}) => ({
    agent,
    settings: settings[agent.kind] as AgentRequest<SpecOf<K>>['settings'],
    prompt: PROMPT,
    worktree: DROVER_ENV.DROVER_WORKTREE!,
    droverEnv: { ...DROVER_ENV },
    ...overrides,
  });
}

export const REQUESTS: { [K in AgentKind]: RequestFor<SpecOf<K>> } = {
  // The command reads its task from stdin, as a shell script would; the recorder gives each scenario its own.
  command: requestFor({ kind: 'command', argv: ['bash', '-c', 'cat >/dev/null; echo read the task'], env: { ...SETTINGS_ENV } }),
  'claude-code': requestFor({ kind: 'claude-code' }),
  codex: requestFor({ kind: 'codex' }),
  opencode: requestFor({ kind: 'opencode' }),
  'mini-swe-agent': requestFor({ kind: 'mini-swe-agent' }),
  openhands: requestFor({ kind: 'openhands' }),
};
