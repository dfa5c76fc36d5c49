import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../shared/errors.js';
import { AGENT_KINDS, type JobSpecInput } from '../shared/schemas.js';

export interface SubmitFlags {
  file?: string;
  repo?: string;
  base?: string;
  prompt?: string;
  promptFile?: string;
  agent?: string;
  agentCommand?: string;
  model?: string;
  maxTurns?: string;
  runtime?: string;
  image?: string;
  runtimeEnv?: string[];
  env?: string[];
  validate?: string[];
  setup?: string[];
  teardown?: string[];
  include?: string[];
  critic?: string;
  maxRevisions?: string;
  message?: string;
  id?: string;
  idleTimeout?: string;
  timeout?: string;
  answerTimeout?: string;
  integrate?: string;
  merge?: boolean;
  attempts?: string;
  agents?: string;
  budgetUsd?: string;
  budgetTokens?: string;
}

/** Builds a job spec from a job file and flags (flags win). The schema validates it afterwards. */
export function jobSpecFromFlags(f: SubmitFlags): JobSpecInput {
  const spec: Record<string, unknown> = f.file ? readJobFile(f.file) : {};
  if (f.repo !== undefined) spec.repo = f.repo;
  if (f.base !== undefined) spec.base = f.base;
  if (f.id !== undefined) spec.id = f.id;
  if (f.message !== undefined) spec.commitMessage = f.message;
  if (f.prompt !== undefined && f.promptFile !== undefined) throw new AppError('InvalidInput', 'give --prompt or --prompt-file, not both');
  if (f.prompt !== undefined) spec.prompt = f.prompt;
  if (f.promptFile !== undefined) spec.prompt = readText(f.promptFile, 'prompt file');
  if (typeof spec.promptFile === 'string') {
    spec.prompt ??= readText(spec.promptFile, 'prompt file');
    delete spec.promptFile;
  }
  bestOfFlags(f, spec);
  budgetFlags(f, spec);
  if (f.agent !== undefined || f.agentCommand !== undefined || f.env?.length || f.model !== undefined || f.maxTurns !== undefined) {
    const kind = f.agent ?? (spec.agent as { kind?: string } | undefined)?.kind ?? 'command';
    if (!(AGENT_KINDS as readonly string[]).includes(kind)) {
      throw new AppError('InvalidInput', `unknown agent kind "${kind}" (known: ${AGENT_KINDS.join(', ')})`);
    }
    const agent: Record<string, unknown> = { ...((spec.agent as object) ?? {}), kind };
    if (f.agentCommand !== undefined) agent.command = f.agentCommand;
    if (f.model !== undefined) agent.model = f.model;
    if (f.maxTurns !== undefined) agent.maxTurns = Number(f.maxTurns);
    if (f.env?.length) agent.env = { ...((agent.env as object) ?? {}), ...parseEnv(f.env) };
    spec.agent = agent;
  }
  if (f.runtime !== undefined || f.image !== undefined || f.runtimeEnv?.length) {
    const kind =
      f.runtime ?? (spec.runtime as { kind?: string } | undefined)?.kind ?? (f.image || f.runtimeEnv?.length ? 'docker' : 'host');
    const runtime: Record<string, unknown> = { ...((spec.runtime as object) ?? {}), kind };
    if (f.image !== undefined) runtime.image = f.image;
    if (f.runtimeEnv?.length) runtime.env = [...((runtime.env as string[]) ?? []), ...f.runtimeEnv];
    spec.runtime = runtime;
  }
  if (Array.isArray(spec.validate)) spec.validate = spec.validate.map(normalizeStep);
  if (f.validate?.length) spec.validate = [...((spec.validate as unknown[]) ?? []), ...f.validate.map(normalizeStep)];
  // Setup and teardown steps may be bare commands anywhere (the schema names them).
  if (f.setup?.length) spec.setup = [...((spec.setup as unknown[]) ?? []), ...f.setup];
  if (f.teardown?.length) spec.teardown = [...((spec.teardown as unknown[]) ?? []), ...f.teardown];
  if (f.include?.length) spec.include = [...((spec.include as unknown[]) ?? []), ...f.include];
  if (f.critic !== undefined) spec.critic = { command: f.critic };
  if (f.integrate !== undefined) spec.integrate = { ...((spec.integrate as object) ?? {}), into: f.integrate };
  if (f.merge && !spec.integrate) throw new AppError('InvalidInput', '--merge goes with --integrate <branch>');
  if (f.merge) spec.integrate = { ...(spec.integrate as object), mode: 'merge' };
  if (f.maxRevisions !== undefined) spec.maxRevisions = Number(f.maxRevisions);
  const timeouts: Record<string, string> = { ...((spec.timeouts as object) ?? {}) };
  if (f.idleTimeout) timeouts.agentIdle = f.idleTimeout;
  if (f.timeout) timeouts.agentHard = f.timeout;
  if (f.answerTimeout) timeouts.humanAnswer = f.answerTimeout;
  if (Object.keys(timeouts).length) spec.timeouts = timeouts;
  if (spec.agent === undefined)
    throw new AppError('InvalidInput', 'invalid job: agent: required (use --agent command --agent-command "...")');
  return spec as unknown as JobSpecInput;
}

/** --budget-usd and --budget-tokens over the job file's budget. */
function budgetFlags(f: SubmitFlags, spec: Record<string, unknown>): void {
  if (f.budgetUsd === undefined && f.budgetTokens === undefined) return;
  const budget: Record<string, unknown> = { ...((spec.budget as object) ?? {}) };
  if (f.budgetUsd !== undefined) budget.usd = Number(f.budgetUsd);
  if (f.budgetTokens !== undefined) budget.tokens = Number(f.budgetTokens);
  spec.budget = budget;
}

/**
 * --attempts N and --agents a,b,c (one attempt each; `select:` is for job files). A job that names only its
 * attempts' agents gets the first as its own agent, which the schema requires.
 */
function bestOfFlags(f: SubmitFlags, spec: Record<string, unknown>): void {
  if (f.attempts !== undefined && f.agents !== undefined) throw new AppError('InvalidInput', 'give --attempts or --agents, not both');
  if (f.attempts !== undefined) spec.attempts = Number(f.attempts);
  const kinds = f.agents?.split(',').map((a) => a.trim());
  if (kinds) spec.attempts = { agents: kinds.filter(Boolean) };
  const agents = (spec.attempts as { agents?: unknown } | undefined)?.agents;
  if (spec.agent === undefined && f.agent === undefined && Array.isArray(agents) && agents.length > 0) {
    spec.agent = typeof agents[0] === 'string' ? { kind: agents[0] } : agents[0];
  }
}

/** A validation step may be written as a bare command; its name is then the command itself. */
function normalizeStep(step: unknown): unknown {
  if (typeof step !== 'string') return step;
  return { name: step.length > 60 ? `${step.slice(0, 57)}...` : step, command: step };
}

function parseEnv(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new AppError('InvalidInput', `--env takes KEY=VALUE, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

function readJobFile(path: string): Record<string, unknown> {
  const text = readText(path, 'job file');
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new AppError('InvalidInput', `job file ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new AppError('InvalidInput', `job file ${path} must be a YAML mapping of job fields`);
  }
  return data as Record<string, unknown>;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new AppError('InvalidInput', `${what} not found: ${path}`);
  }
}
