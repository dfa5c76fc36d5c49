/** The contract's invocation cases: what a backend hands the runtime to start its CLI. */
import assert from 'node:assert/strict';
import type { AgentInvocation } from '../../src/backends/backend.js';
import type { BackendSubject, ContractCase } from './backend.contract.js';
import { DROVER_ENV, FOLLOW_UP, PROMPT, SETTINGS_ENV } from './backend-requests.js';
import { argvText, namesSession, startOf } from './backend-replay.js';

/** Linux caps one argument at 128 KiB (MAX_ARG_STRLEN): a longer one fails the exec with E2BIG. */
const MAX_ARG_BYTES = 128 * 1024;
const SECRET = 'sk-worker-secret-that-must-stay-out';
/** Credentials of the worker's own environment: the runtime decides what the CLI sees, never the backend. */
const WORKER_SECRETS = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'LLM_API_KEY', 'DROVER_CONTRACT_SECRET'];
const SESSION = 'contract-session-0001';

function assertPromptDelivered(s: BackendSubject, inv: AgentInvocation, prompt: string): void {
  if (s.promptVia === 'stdin') {
    assert.ok(inv.stdin.includes(prompt), `the prompt on stdin: ${inv.stdin.slice(0, 200)}`);
    assert.ok(!argvText(inv).includes(prompt), 'and not in argv too');
  } else {
    assert.ok(
      inv.argv.some((a) => a.includes(prompt)),
      `the prompt as an argument: ${inv.argv.join(' ')}`,
    );
  }
}

function firstRunCase(s: BackendSubject): void {
  const inv = startOf(s)().invocation;
  assert.ok(inv.argv.length > 0, 'an argv');
  assert.ok(
    inv.argv.every((a) => typeof a === 'string'),
    'of strings',
  );
  assert.ok(inv.argv[0]!.trim(), 'starting with a command');
  assert.deepEqual(startOf(s)().invocation, inv, 'the same request gives the same invocation');
  assertPromptDelivered(s, inv, PROMPT);
  for (const [name, value] of Object.entries(DROVER_ENV)) assert.equal(inv.env[name], value, `${name} passed through, and it wins`);
  assert.equal(inv.env.CONTRACT_SETTING, SETTINGS_ENV.CONTRACT_SETTING, "the worker's variables for the CLI");
}

function secretsCase(s: BackendSubject): void {
  const saved = WORKER_SECRETS.map((k) => [k, process.env[k]] as const);
  for (const k of WORKER_SECRETS) process.env[k] = SECRET;
  let inv: AgentInvocation;
  try {
    inv = startOf(s)().invocation;
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.ok(!JSON.stringify(inv).includes(SECRET), "nothing of the worker's own environment in the invocation");
  const token = SETTINGS_ENV.CONTRACT_TOKEN!;
  assert.equal(inv.env.CONTRACT_TOKEN, token, 'a credential of the settings goes in the environment');
  assert.ok(!argvText(inv).includes(token), 'never in argv (process lists, logs, the job history)');
  assert.ok(!inv.stdin.includes(token), 'nor on stdin');
}

function longPromptCase(s: BackendSubject): void {
  const prompt = `${PROMPT} ${'All work and no play makes a long task. '.repeat(6_000)}`;
  const inv = startOf(s)({ prompt }).invocation;
  for (const a of inv.argv) assert.ok(Buffer.byteLength(a) < MAX_ARG_BYTES, `an argument of ${Buffer.byteLength(a)} bytes`);
  if (s.promptVia === 'stdin') assert.ok(inv.stdin.includes(prompt), 'the whole prompt on stdin');
  else assert.ok(argvText(inv).includes(DROVER_ENV.DROVER_PROMPT_FILE!), 'a pointer to the prompt file instead');
}

function resumeCase(s: BackendSubject): void {
  const fresh = startOf(s)({ prompt: FOLLOW_UP }).invocation;
  const resumed = startOf(s)({ prompt: FOLLOW_UP, resume: SESSION }).invocation;
  assert.ok(!JSON.stringify(fresh).includes(SESSION), 'a fresh run names no session');
  if (!s.backend.capabilities.resume) {
    assert.deepEqual(resumed, fresh, 'a backend that cannot resume ignores the session: the run starts afresh');
    return;
  }
  assert.ok(namesSession(resumed, SESSION), `the session in argv: ${resumed.argv.join(' ')}`);
  assertPromptDelivered(s, resumed, FOLLOW_UP);
  assert.equal(resumed.argv[0], fresh.argv[0], 'the same CLI');
  assert.deepEqual(resumed.env, fresh.env, 'with the same environment');
}

export function invocationCases(): ContractCase[] {
  return [
    { name: 'invocation: first run', check: firstRunCase },
    { name: 'invocation: the worker secrets stay out of argv', check: secretsCase },
    { name: 'invocation: a prompt too long for one argument', check: longPromptCase },
    { name: 'invocation: resume', check: resumeCase },
  ];
}
