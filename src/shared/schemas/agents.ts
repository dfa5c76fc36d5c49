/** The agents a job can name: a discriminated union on `kind`, one member per backend. */
import { z } from 'zod';
import { EnvName } from './primitives.js';

export const CommandAgent = z
  .object({
    kind: z.literal('command'),
    command: z.string().min(1).max(10_000).optional().describe('a shell command, run with bash -c'),
    argv: z.array(z.string().max(10_000)).min(1).max(200).optional().describe('an argv, run without a shell'),
    env: z.record(EnvName, z.string().max(10_000)).default({}).describe('non-secret variables for the agent'),
  })
  .strict()
  .refine((a) => (a.command === undefined) !== (a.argv === undefined), 'give exactly one of command or argv');
export type CommandAgent = z.infer<typeof CommandAgent>;

/**
 * What a job may choose for a CLI agent: only what is safe to let any submitter override. Permission modes,
 * sandboxes, extra arguments and credentials are the worker's to set (config file and environment).
 */
const ModelName = z.string().regex(/^[A-Za-z0-9._:/@-]{1,200}$/, 'must be a model name such as claude-sonnet-4-5 or openai/gpt-5');
const cliAgent = <K extends string>(kind: K) =>
  z
    .object({
      kind: z.literal(kind),
      model: ModelName.optional().describe('the model, when not the worker default'),
      maxTurns: z.number().int().min(1).max(1_000).optional().describe('a cap on the agent turns of one run, where the CLI has one'),
    })
    .strict();

export const ClaudeCodeAgent = cliAgent('claude-code');
export type ClaudeCodeAgent = z.infer<typeof ClaudeCodeAgent>;
export const CodexAgent = cliAgent('codex');
export type CodexAgent = z.infer<typeof CodexAgent>;
export const OpenCodeAgent = cliAgent('opencode');
export type OpenCodeAgent = z.infer<typeof OpenCodeAgent>;
/** mini-swe-agent's `mini` CLI (PyPI mini-swe-agent); `model` is a litellm name such as openai/gpt-5. */
export const MiniSweAgent = cliAgent('mini-swe-agent');
export type MiniSweAgent = z.infer<typeof MiniSweAgent>;
/** OpenHands through its SDK and Drover's driver; `model` is a litellm name. */
export const OpenHandsAgent = cliAgent('openhands');
export type OpenHandsAgent = z.infer<typeof OpenHandsAgent>;

/** Backends are a discriminated union on `kind`; new backends add a member here. */
export const AgentSpec = z.discriminatedUnion('kind', [
  CommandAgent,
  ClaudeCodeAgent,
  CodexAgent,
  OpenCodeAgent,
  MiniSweAgent,
  OpenHandsAgent,
]);
export type AgentSpec = z.infer<typeof AgentSpec>;
export type AgentKind = AgentSpec['kind'];
export const AGENT_KINDS = [
  'command',
  'claude-code',
  'codex',
  'opencode',
  'mini-swe-agent',
  'openhands',
] as const satisfies readonly AgentKind[];
