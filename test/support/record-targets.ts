/**
 * The real CLIs record-transcripts.ts runs, one target per backend: where the CLI is, the settings and
 * environment that point it at the scripted model server, and how the model asks its question.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AgentInvocation } from '../../src/backends/backend.js';
import { backendOfKind } from '../../src/backends/registry.js';
import { defaultImageTag } from '../../src/runtimes/docker/image.js';
import type { AgentKind, AgentSpec } from '../../src/shared/schemas.js';
import { findMini } from '../../src/worker/python-agents.js';
import type { Scenario } from '../contracts/transcript.js';
import { REPO_ROOT } from './harness.js';
import type { ModelServer, Step } from './model-server.js';

export const QUESTION = 'Which greeting should I write?';

export interface Dirs {
  worktree: string;
  runDir: string;
}

export interface Target {
  kind: AgentKind;
  /** Worker settings on top of the contract's request (the CLI's real path). */
  settings: Record<string, unknown>;
  /** Worker environment on top of agentWorkerEnv. */
  env?: Record<string, string>;
  /** The model's steps when it asks a person. */
  question: Step[];
  version(env: Record<string, string>): string;
  /** Talks to no model: each scenario is a script of its own, the crash its own kill. */
  modelFree?: boolean;
  agentFor?(scenario: Scenario): AgentSpec;
  /** Runs in the agent image: the worktree and run directory are shared with its non-root user. */
  inContainer?: boolean;
  wrap?(inv: AgentInvocation, dirs: Dirs, model: ModelServer): { argv: string[]; env: Record<string, string> };
  /** Crashes the run (default: SIGKILL to every process of the run). */
  kill?(): Promise<void>;
}

/** The question through the file protocol: written by the agent's own shell tool. */
const fileQuestion = (path: string): Step[] => [
  { run: `mkdir -p "$(dirname ${path})" && printf '{"question": "${QUESTION}"}' > ${path}` },
  { say: 'I asked.' },
];

const cliOutput = (argv: string[], env: Record<string, string>) =>
  execFileSync(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
const cliVersion = (argv: string[], env: Record<string, string>) => cliOutput(argv, env).split('\n')[0]!;

const npmCli = (kind: AgentKind, bin: string, question: Step[]): Target | undefined => {
  const command = `${REPO_ROOT}/node_modules/.bin/${bin}`;
  if (!existsSync(command)) return undefined;
  return { kind, settings: { command }, question, version: (env) => cliVersion([command, ...backendOfKind(kind).versionArgs], env) };
};

/** A shell command per scenario; the model errors are what curl says when the model API answers that status. */
const COMMAND_SCRIPTS: Record<Scenario, string> = {
  'first-run': `read -r task; echo "task: $task"; printf 'Hello\\n' > greeting.txt; echo 'wrote greeting.txt'; cat greeting.txt`,
  resumed: 'true',
  question: `printf '{"question": "${QUESTION}"}' > "$DROVER_QUESTION_FILE"; echo 'asked in the question file'`,
  'error-401': curl(),
  'error-429': curl(),
  'error-500': curl(),
  crash: `echo 'step 1 of 3'; echo 'working on step 2' >&2; kill -KILL $$`,
};

function curl(): string {
  const body = JSON.stringify({
    model: 'scripted-model',
    messages: [{ role: 'user', content: 'Write a greeting' }],
    tools: [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }],
  });
  return `echo 'asking the model'; curl -sS --fail-with-body -H 'content-type: application/json' -H "authorization: Bearer $OPENAI_API_KEY" -d '${body}' "$OPENAI_API_BASE/chat/completions"`;
}

function commandTarget(): Target {
  return {
    kind: 'command',
    settings: {},
    question: [],
    modelFree: true,
    version: (env) => cliVersion(['bash', '--version'], env),
    agentFor: (scenario) => ({ kind: 'command', argv: ['bash', '-c', COMMAND_SCRIPTS[scenario]], env: {} }),
  };
}

function miniTarget(): Target | undefined {
  const command = findMini(process.env);
  if (!command) return undefined;
  return {
    kind: 'mini-swe-agent',
    settings: { command },
    question: fileQuestion('"$DROVER_QUESTION_FILE"'),
    // `mini` has no --version; its help says "This is mini-swe-agent version 2.4.6.".
    version: (env) => `mini-swe-agent ${/version (\d+(?:\.\d+)+)/.exec(cliOutput([command, '--help'], env))?.[1] ?? 'unknown'}`,
  };
}

function hasImage(tag: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** drover-openhands in the agent image, on the host network to reach the model server, as the Docker runtime runs it. */
function openHandsTarget(apiKey: string): Target | undefined {
  const image = defaultImageTag();
  if (!hasImage(image)) return undefined;
  let container = '';
  return {
    kind: 'openhands',
    settings: {},
    question: fileQuestion('.drover/question.json'),
    inContainer: true,
    version: () => execFileSync('docker', ['run', '--rm', image, 'drover-openhands', '--version'], { encoding: 'utf8' }).trim(),
    wrap(inv, dirs, model) {
      container = `drover-record-${randomBytes(4).toString('hex')}`;
      const env = { ...inv.env, LLM_BASE_URL: `${model.url}/v1`, LLM_API_KEY: apiKey };
      const mounts = [dirs.worktree, dirs.runDir].flatMap((d) => ['-v', `${d}:${d}`]);
      const vars = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      const argv = ['docker', 'run', '--rm', '-i', '--name', container, '--network', 'host', ...mounts, '-w', dirs.worktree, ...vars];
      return { argv: [...argv, image, ...inv.argv], env: { ...(process.env as Record<string, string>) } };
    },
    kill: async () => {
      execFileSync('docker', ['kill', '--signal=KILL', container], { stdio: 'ignore' });
    },
  };
}

export async function targetFor(kind: AgentKind, _model: ModelServer, apiKey: string): Promise<Target | undefined> {
  switch (kind) {
    case 'command':
      return commandTarget();
    case 'claude-code':
      return npmCli(kind, 'claude', [{ ask: { question: QUESTION, options: ['Hello', 'Howdy'] } }]);
    case 'codex':
      return npmCli(kind, 'codex', fileQuestion('.drover/question.json'));
    case 'opencode':
      return npmCli(kind, 'opencode', fileQuestion('.drover/question.json'));
    case 'mini-swe-agent':
      return miniTarget();
    case 'openhands':
      return openHandsTarget(apiKey);
  }
}
