import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fullPrompt, planRun } from '../../src/activities/agent.js';
import { refuseMessage } from '../../src/client/message.js';
import { createDailySpend, tighter } from '../../src/activities/daily-spend.js';
import { claudeCodeBackend } from '../../src/backends/claude-code-backend.js';
import { ClaudeCodeSettings } from '../../src/config/schema.js';
import { failureTypeOf } from '../../src/shared/errors.js';
import { messageText } from '../../src/shared/message.js';
import { JobSpec, JobTimeouts, type RunAgentInput } from '../../src/shared/schemas.js';
import { spendText } from '../../src/shared/spend.js';
import { tempDir } from '../support/harness.js';

const usage = (tokens: number, usd: number | null = null) => ({
  inputTokens: tokens,
  outputTokens: 0,
  cachedInputTokens: 0,
  costUsd: usd,
  turns: 1,
});

const claudeRun = () =>
  claudeCodeBackend.start({
    agent: { kind: 'claude-code' },
    settings: ClaudeCodeSettings.parse({}),
    prompt: 'Task',
    worktree: '/w',
    droverEnv: {},
  });

describe('steering messages', () => {
  it('checks the signal payload without zod: an object with non-empty text, bounded', () => {
    assert.deepEqual(messageText({ text: '  hi  ' }), { text: 'hi' });
    assert.deepEqual(messageText('hi'), { problem: 'expected an object {"text": "..."}' });
    assert.deepEqual(messageText({ text: ' ' }), { problem: 'text: must not be empty' });
    assert.match((messageText({ text: 'x'.repeat(2_001) }) as { problem: string }).problem, /at most 2000/);
  });

  it('puts every message in a full prompt, and only the new ones in a follow-up', () => {
    assert.match(fullPrompt('Task', [], undefined, ['a', 'b']), /## Messages from the person who runs this job\n\n- a\n\n- b/);
    const input: RunAgentInput = {
      jobId: 'j',
      worktree: '/w',
      agent: { kind: 'codex' },
      prompt: 'Task',
      revision: 0,
      questions: [],
      timeouts: JobTimeouts.parse({}),
      session: 's1',
      messages: ['old', 'new one'],
      newMessages: 1,
    };
    const plan = planRun(input, 'FULL', true, 1, undefined);
    assert.equal(plan.resume, 's1');
    assert.match(plan.prompt, /- new one/);
    assert.doesNotMatch(plan.prompt, /old/);
    assert.doesNotMatch(plan.prompt, /Continue the task/);
  });

  it("writes a message into Claude Code's live session until its final result, and knows when it took it", () => {
    const run = claudeRun();
    assert.ok(run.invocation.argv.includes('--replay-user-messages'));
    const lines = run.steer?.('also add tests');
    assert.equal(JSON.parse(lines?.[0] ?? '{}').message.content, 'also add tests');
    // A turn that ends before the CLI took the message is not the last: the message starts another.
    assert.equal(run.read('stdout', JSON.stringify({ type: 'result', subtype: 'success', result: 'ok' })).final, false);
    const replay = { type: 'user', isReplay: true, message: { role: 'user', content: 'also add tests' } };
    assert.deepEqual(run.read('stdout', JSON.stringify(replay)).delivered, ['also add tests']);
    assert.equal(run.read('stdout', JSON.stringify({ type: 'result', subtype: 'success', result: 'ok' })).final, true);
    assert.equal(run.steer?.('too late'), undefined, 'after the final result the CLI takes no more input');
  });

  it('takes several queued messages from one replay, and reports the ones the CLI never took', () => {
    const run = claudeRun();
    run.steer?.('one');
    run.steer?.('two');
    run.steer?.('three');
    const merged = { type: 'user', isReplay: true, message: { role: 'user', content: [{ type: 'text', text: 'one\ntwo' }] } };
    assert.deepEqual(run.read('stdout', JSON.stringify(merged)).delivered, ['one', 'two']);
    assert.deepEqual(run.unconfirmed?.(), ['three']);
  });

  it('are refused at the edge when no run could get them', () => {
    const running = { execution: 'RUNNING', phase: 'running_agent' };
    assert.doesNotThrow(() => refuseMessage('j', running));
    assert.throws(() => refuseMessage('j', { ...running, execution: 'COMPLETED' }), /has already ended \(completed\)/);
    assert.throws(() => refuseMessage('j', { ...running, phase: 'committing' }), /its agent has finished/);
    assert.throws(() => refuseMessage('j', { ...running, attempts: [] }), /runs as attempts/);
  });

  it("counts Claude Code's model calls once each, however many lines a call's message spans", () => {
    const run = claudeRun();
    const line = (id: string, output: number) =>
      JSON.stringify({ type: 'assistant', message: { id, content: [], usage: { input_tokens: 100, output_tokens: output } } });
    run.read('stdout', line('m1', 1));
    run.read('stdout', line('m1', 30));
    run.read('stdout', line('m2', 5));
    assert.deepEqual(run.liveUsage?.(), { inputTokens: 200, outputTokens: 35, cachedInputTokens: 0, costUsd: null, turns: 2 });
  });
});

describe('budgets', () => {
  it('are part of the job spec: positive limits, a duration, wip off by default', () => {
    const base = { repo: '/r', prompt: 'p', agent: { kind: 'command', command: 'true' } };
    assert.deepEqual(JobSpec.parse({ ...base, budget: { tokens: 10, wallTime: '1h' } }).budget, { tokens: 10, wallTime: '1h', wip: false });
    assert.equal(JobSpec.safeParse({ ...base, budget: { tokens: 0 } }).success, false);
    assert.equal(JobSpec.safeParse({ ...base, budget: { dollars: 1 } }).success, false);
  });

  it('show the spend against each limit', () => {
    const spend = { usd: 0.0123, tokens: 1200, turns: 3, wallTimeMs: 40_000 };
    assert.equal(spendText(spend, { tokens: 5000, usd: 0.5, wip: false }), '1200/5000 tokens, 3 turns, $0.0123/$0.5, 40s');
    assert.equal(spendText({ ...spend, usd: null }, undefined), '1200 tokens, 3 turns, 40s');
  });

  it("keep a worker's daily ceiling across restarts and start it over the next day", () => {
    const file = join(tempDir('drover-spend-'), 'spend', 'daily.json');
    let now = new Date('2026-12-02T10:00:00Z');
    const day = createDailySpend(file, { tokens: 1000 }, () => now);
    assert.deepEqual(day.allowance(), { tokens: 1000 });
    day.add(usage(600));
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { day: '2026-12-02', tokens: 600, usd: 0 });
    const restarted = createDailySpend(file, { tokens: 1000 }, () => now);
    assert.deepEqual(restarted.allowance(), { tokens: 400 });
    restarted.add(usage(400));
    assert.throws(
      () => restarted.allowance(),
      (err: unknown) => failureTypeOf(err) === 'BudgetExceeded' && /1000 of 1000 tokens today/.test(String(err)),
    );
    now = new Date('2026-12-03T00:00:01Z');
    assert.deepEqual(restarted.allowance(), { tokens: 1000 });
  });

  it('bound a run by the tighter of the job budget and the ceiling', () => {
    assert.deepEqual(tighter({ tokens: 50, turns: 3 }, { tokens: 400, usd: 1 }), { tokens: 50, turns: 3, usd: 1 });
    assert.deepEqual(tighter(undefined, { usd: 2 }), { usd: 2 });
  });
});
