import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRun } from '../../src/activities/agent.js';
import { modelFailureType } from '../../src/backends/backend.js';
import { claudeCodeBackend } from '../../src/backends/claude-code-backend.js';
import { codexBackend } from '../../src/backends/codex-backend.js';
import { openCodeBackend } from '../../src/backends/opencode-backend.js';
import { miniSweAgentBackend } from '../../src/backends/mini-swe-agent-backend.js';
import { openHandsBackend } from '../../src/backends/openhands-backend.js';
import { AgentsConfig } from '../../src/config/schema.js';
import { JobTimeouts, type RunAgentInput } from '../../src/shared/schemas.js';

const settings = AgentsConfig.parse({});
const base = { prompt: 'Do it', worktree: '/w', droverEnv: { DROVER_WORKTREE: '/w' } };
const line = (o: unknown) => JSON.stringify(o);

describe('claude-code backend', () => {
  it('speaks stream-json both ways, with the ask hook, and resumes without a new message to answer a question', () => {
    const fresh = claudeCodeBackend.start({ ...base, agent: { kind: 'claude-code', model: 'm1' }, settings: settings['claude-code'] });
    assert.ok(fresh.invocation.argv.includes('--input-format=stream-json'));
    assert.ok(fresh.invocation.argv.includes('--permission-mode=acceptEdits'));
    assert.ok(fresh.invocation.argv.includes('--model=m1'));
    assert.equal(fresh.invocation.keepStdinOpen, true);
    const sent = fresh.invocation.stdin
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(sent[0].request.hooks.PreToolUse[0].matcher, '^AskUserQuestion$');
    assert.deepEqual(sent[1].message, { role: 'user', content: 'Do it' });

    const resumed = claudeCodeBackend.start({
      ...base,
      agent: { kind: 'claude-code' },
      settings: settings['claude-code'],
      resume: 'sess-1',
      nativeAnswer: { question: 'Which?', answer: 'That' },
    });
    assert.ok(resumed.invocation.argv.includes('--resume=sess-1'));
    assert.equal(resumed.invocation.stdin.trim().split('\n').length, 1, 'only the initialize request');
    const hook = resumed.read(
      'stdout',
      line({
        type: 'control_request',
        request_id: 'r1',
        request: { subtype: 'hook_callback', callback_id: 'drover-ask', input: { tool_input: { questions: [{ question: 'Which?' }] } } },
      }),
    );
    const reply = JSON.parse(hook.replies![0]!);
    assert.equal(reply.response.request_id, 'r1');
    assert.deepEqual(reply.response.response.hookSpecificOutput.updatedInput.answers, { 'Which?': 'That' });
  });

  it('defers AskUserQuestion and reports the question; reads session, usage and cost from the result', () => {
    const run = claudeCodeBackend.start({ ...base, agent: { kind: 'claude-code' }, settings: settings['claude-code'] });
    run.read('stdout', line({ type: 'system', subtype: 'init', session_id: 's-9', model: 'm' }));
    const ask = run.read(
      'stdout',
      line({
        type: 'control_request',
        request_id: 'r2',
        request: {
          subtype: 'hook_callback',
          callback_id: 'drover-ask',
          input: { tool_input: { questions: [{ question: 'Which?', options: [{ label: 'A' }, { label: 'B' }] }] } },
        },
      }),
    );
    assert.equal(JSON.parse(ask.replies![0]!).response.response.hookSpecificOutput.permissionDecision, 'defer');
    const end = run.read(
      'stdout',
      line({
        type: 'result',
        subtype: 'success',
        is_error: false,
        stop_reason: 'tool_deferred',
        session_id: 's-9',
        num_turns: 1,
        total_cost_usd: 0.5,
        usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 3 },
      }),
    );
    assert.equal(end.final, true);
    assert.equal(run.sessionId(), 's-9');
    assert.deepEqual(run.usage(), { inputTokens: 15, outputTokens: 3, cachedInputTokens: 5, costUsd: 0.5, turns: 1 });
    assert.deepEqual(run.verdict({ exitCode: 0, finished: false }), { outcome: 'question', question: 'Which? (options: A | B)' });
  });

  it('turns an is_error result into a typed failure by HTTP status, and denies unlisted tools by default', () => {
    const run = claudeCodeBackend.start({ ...base, agent: { kind: 'claude-code' }, settings: settings['claude-code'] });
    const perm = run.read(
      'stdout',
      line({ type: 'control_request', request_id: 'p', request: { subtype: 'can_use_tool', tool_name: 'Bash', input: {} } }),
    );
    assert.equal(JSON.parse(perm.replies![0]!).response.response.behavior, 'deny');
    run.read('stdout', line({ type: 'result', subtype: 'success', is_error: true, api_error_status: 401, result: 'Invalid API key' }));
    const v = run.verdict({ exitCode: 1, finished: false });
    assert.equal(v?.outcome, 'failed');
    assert.equal(v?.outcome === 'failed' && v.type, 'AgentAuthFailed');
  });
});

describe('codex backend', () => {
  it('runs exec --json with the prompt on stdin, resumes a thread, and reads usage and failures', () => {
    const fresh = codexBackend.start({ ...base, agent: { kind: 'codex' }, settings: settings.codex });
    assert.deepEqual(fresh.invocation.argv, ['codex', 'exec', '--json', '--skip-git-repo-check', '--sandbox=workspace-write', '-']);
    assert.equal(fresh.invocation.stdin, 'Do it');
    assert.equal(fresh.invocation.keepStdinOpen, false);
    const resumed = codexBackend.start({ ...base, agent: { kind: 'codex' }, settings: settings.codex, resume: 't-1' });
    assert.deepEqual(resumed.invocation.argv.slice(-3), ['resume', 't-1', '-']);

    resumed.read('stdout', line({ type: 'thread.started', thread_id: 't-1' }));
    const cmd = resumed.read('stdout', line({ type: 'item.completed', item: { type: 'command_execution', command: 'ls', exit_code: 0 } }));
    assert.deepEqual(cmd.events, [{ type: 'command', text: '$ ls (exit 0)' }]);
    assert.equal(resumed.read('stdout', line({ type: 'turn.completed', usage: { input_tokens: 9, output_tokens: 2 } })).final, true);
    assert.deepEqual(resumed.verdict({ exitCode: 0, finished: false }), { outcome: 'done' });

    const failing = codexBackend.start({ ...base, agent: { kind: 'codex' }, settings: settings.codex });
    failing.read('stdout', line({ type: 'turn.failed', error: { message: 'exceeded retry limit, last status: 429 Too Many Requests' } }));
    const v = failing.verdict({ exitCode: 1, finished: false });
    assert.equal(v?.outcome === 'failed' && v.type, 'AgentRateLimited');
  });
});

describe('opencode backend', () => {
  it('runs `run --format=json`, continues a session, adds up steps and reads API errors', () => {
    const run = openCodeBackend.start({ ...base, agent: { kind: 'opencode', model: 'p/m' }, settings: settings.opencode, resume: 'ses_1' });
    assert.deepEqual(run.invocation.argv, ['opencode', 'run', '--format=json', '--model=p/m', '--session=ses_1']);
    run.read(
      'stdout',
      line({
        type: 'step_finish',
        sessionID: 'ses_1',
        part: { reason: 'tool-calls', tokens: { input: 10, output: 2, cache: { read: 1 } }, cost: 0.01 },
      }),
    );
    const last = run.read(
      'stdout',
      line({ type: 'step_finish', sessionID: 'ses_1', part: { reason: 'stop', tokens: { input: 5, output: 1 }, cost: 0.02 } }),
    );
    assert.equal(last.final, true);
    assert.equal(run.sessionId(), 'ses_1');
    const u = run.usage()!;
    assert.equal(u.inputTokens, 16);
    assert.equal(u.turns, 2);
    assert.ok(Math.abs((u.costUsd ?? 0) - 0.03) < 1e-9);

    const failing = openCodeBackend.start({ ...base, agent: { kind: 'opencode' }, settings: settings.opencode });
    failing.read(
      'stdout',
      line({ type: 'error', sessionID: 's', error: { name: 'APIError', data: { message: 'boom', statusCode: 500 } } }),
    );
    const v = failing.verdict({ exitCode: 1, finished: false });
    assert.equal(v?.outcome === 'failed' && v.type, 'AgentModelError');
  });
});

describe('model failure types', () => {
  it('maps statuses and messages', () => {
    assert.equal(modelFailureType(401), 'AgentAuthFailed');
    assert.equal(modelFailureType(403), 'AgentAuthFailed');
    assert.equal(modelFailureType(429), 'AgentRateLimited');
    assert.equal(modelFailureType(503), 'AgentModelError');
    assert.equal(modelFailureType(null, 'We are currently experiencing high demand'), 'AgentModelError');
    assert.equal(modelFailureType(null, 'something else'), 'AgentFailed');
  });
});

describe('planning a run', () => {
  const input: RunAgentInput = {
    jobId: 'j',
    worktree: '/w',
    agent: { kind: 'codex' },
    prompt: 'Task',
    revision: 0,
    questions: [{ question: 'Q?', answer: 'A!' }],
    timeouts: JobTimeouts.parse({}),
  };

  it('starts fresh, continues the workflow session with only the new thing, or resumes a crashed attempt', () => {
    assert.deepEqual(planRun(input, 'FULL', true, 1, undefined), { prompt: 'FULL' });
    const answer = planRun({ ...input, session: 's1', answering: 'file' }, 'FULL', true, 1, undefined);
    assert.equal(answer.resume, 's1');
    assert.match(answer.prompt, /answer to your question "Q\?" is:\n\nA!/);
    const native = planRun({ ...input, session: 's1', answering: 'native' }, 'FULL', true, 1, undefined);
    assert.deepEqual(native.nativeAnswer, { question: 'Q?', answer: 'A!' });
    const feedback = planRun({ ...input, session: 's1', feedback: 'tests failed' }, 'FULL', true, 1, undefined);
    assert.match(feedback.prompt, /Feedback on your previous attempt\n\ntests failed/);
    const crashed = planRun(input, 'FULL', true, 2, { summary: 'x', lines: 3, sessionId: 's0' });
    assert.equal(crashed.resume, 's0');
    assert.match(crashed.prompt, /interrupted/);
  });

  it('restarts a backend without sessions with a handoff note of what the dead attempt did', () => {
    const plan = planRun({ ...input, agent: { kind: 'command', command: 'x', env: {} } }, 'FULL', false, 2, {
      summary: 'x',
      lines: 3,
      recent: ['file_change: Write a.txt'],
    });
    assert.equal(plan.resume, undefined);
    assert.match(plan.prompt, /^FULL\n## Note from Drover[\s\S]*- file_change: Write a\.txt/);
  });
});

describe('mini-swe-agent backend', () => {
  const env = { ...base.droverEnv, DROVER_OUTPUT_DIR: '/run/out', DROVER_PROMPT_FILE: '/run/prompt.md' };
  it('runs mini headless with its trajectory in the output directory, and reads commands only from the model', () => {
    const run = miniSweAgentBackend.start({
      ...base,
      droverEnv: env,
      agent: { kind: 'mini-swe-agent', model: 'openai/m', maxTurns: 7 },
      settings: settings['mini-swe-agent'],
    });
    const argv = run.invocation.argv;
    assert.deepEqual(argv.slice(0, 5), ['mini', '--yolo', '--exit-immediately', '--output', '/run/out/mini-trajectory.json']);
    assert.ok(argv.join(' ').includes('--model openai/m'));
    assert.ok(!argv.includes('-c'), 'no config name that mini would look up in the worktree first');
    assert.equal(run.invocation.env.MSWEA_GLOBAL_CALL_LIMIT, '7');
    assert.deepEqual(argv.slice(-2), ['--task', 'Do it']);
    assert.equal(run.invocation.env.MSWEA_CONFIGURED, 'true');
    const events = (lines: string[]) => lines.flatMap((l) => run.read('stdout', l).events);
    // The task as printed (a "User" message) holds fences of its own: they are not commands.
    assert.deepEqual(events(['User:', '```bash', 'sed -i s/a/b/ f.py', '```']), []);
    assert.deepEqual(events(['mini-swe-agent (step 1, $0.01):', 'Let me look.', '```', 'ls -la', '```', 'Tool:', '```', 'x', '```']), [
      { type: 'message', text: 'step 1' },
      { type: 'command', text: '$ ls -la' },
    ]);
  });

  it('reads usage and the exit status from the trajectory', () => {
    const run = miniSweAgentBackend.start({
      ...base,
      droverEnv: env,
      agent: { kind: 'mini-swe-agent' },
      settings: settings['mini-swe-agent'],
    });
    const reply = (p: number, c: number) => ({
      role: 'assistant',
      extra: { response: { usage: { prompt_tokens: p, completion_tokens: c } } },
    });
    run.readOutput!(
      JSON.stringify({
        info: { exit_status: 'Submitted', model_stats: { instance_cost: 0.25, api_calls: 2 } },
        messages: [reply(100, 10), reply(200, 20)],
      }),
    );
    assert.deepEqual(run.usage(), { inputTokens: 300, outputTokens: 30, cachedInputTokens: 0, costUsd: 0.25, turns: 2 });
    assert.deepEqual(run.verdict({ exitCode: 0, finished: false }), { outcome: 'done' });
    const failed = miniSweAgentBackend.start({
      ...base,
      droverEnv: env,
      agent: { kind: 'mini-swe-agent' },
      settings: settings['mini-swe-agent'],
    });
    failed.readOutput!(
      JSON.stringify({
        info: { exit_status: 'RateLimitError' },
        messages: [{ role: 'exit', extra: { exception_str: 'litellm.RateLimitError: 429 slow down' } }],
      }),
    );
    assert.equal(failed.verdict({ exitCode: 1, finished: false })?.outcome, 'failed');
    assert.equal((failed.verdict({ exitCode: 1, finished: false }) as { type: string }).type, 'AgentRateLimited');
  });
});

describe('openhands backend', () => {
  const env = { ...base.droverEnv, DROVER_OUTPUT_DIR: '/run/out' };
  it('runs the driver with the conversation persisted in the output directory, resuming by id', () => {
    const fresh = openHandsBackend.start({
      ...base,
      droverEnv: env,
      agent: { kind: 'openhands', model: 'openai/m' },
      settings: settings.openhands,
    });
    assert.deepEqual(fresh.invocation.argv, [
      'drover-openhands',
      '--workspace',
      '/w',
      '--persist',
      '/run/out/openhands',
      '--model',
      'openai/m',
    ]);
    assert.equal(fresh.invocation.stdin, 'Do it');
    const resumed = openHandsBackend.start({
      ...base,
      droverEnv: env,
      agent: { kind: 'openhands' },
      settings: settings.openhands,
      resume: 'c-1',
    });
    assert.deepEqual(resumed.invocation.argv.slice(-2), ['--conversation', 'c-1']);
  });

  it('reads the driver lines into events, usage and a verdict', () => {
    const run = openHandsBackend.start({ ...base, droverEnv: env, agent: { kind: 'openhands' }, settings: settings.openhands });
    const read = (o: unknown) => run.read('stdout', JSON.stringify(o));
    assert.equal(read({ type: 'session', id: 'c-9' }).events[0]?.type, 'session');
    assert.equal(run.sessionId(), 'c-9');
    assert.deepEqual(read({ type: 'action', tool: 'terminal', summary: 'ls' }).events, [{ type: 'command', text: '$ ls' }]);
    assert.deepEqual(read({ type: 'action', tool: 'file_editor', summary: 'create /w/a.txt' }).events, [
      { type: 'file_change', text: 'create /w/a.txt' },
    ]);
    const done = read({ type: 'done', usage: { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, costUsd: null, turns: 1 } });
    assert.equal(done.final, true);
    assert.deepEqual(run.usage(), { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, costUsd: null, turns: 1 });
    assert.deepEqual(run.verdict({ exitCode: 0, finished: false }), { outcome: 'done' });
    const failed = openHandsBackend.start({ ...base, droverEnv: env, agent: { kind: 'openhands' }, settings: settings.openhands });
    failed.read('stdout', JSON.stringify({ type: 'failed', status: 401, error: 'AuthenticationError: bad key' }));
    assert.equal((failed.verdict({ exitCode: 1, finished: false }) as { type: string }).type, 'AgentAuthFailed');
  });
});
