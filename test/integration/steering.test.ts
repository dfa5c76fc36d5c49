/**
 * Steering messages and budgets, with the real Claude Code CLI (talking to the scripted model server) and the
 * command agent, on a real dev server and real workers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DroverClient } from '../../src/client.js';
import { dataPaths } from '../../src/config/paths.js';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { agentWorkerEnv } from '../support/agent-env.js';
import {
  agentScript,
  drover,
  git,
  makeRepo,
  run,
  startTestEnv,
  startTestServer,
  tempDir,
  testConfig,
  waitFor,
  workerProcess,
  type TestEnv,
  type TestServer,
} from '../support/harness.js';
import { requestText, startModelServer, type ModelServer, type RecordedRequest } from '../support/model-server.js';

/** What the scripted model charges for each call (model-api-anthropic.ts): input 120, output 30. */
const TOKENS_PER_CALL = 150;

describe('steering messages and budgets', () => {
  let server: TestServer;
  let model: ModelServer;
  let env: TestEnv;
  const apiKey = `sk-ant-test-${randomBytes(16).toString('hex')}`;

  before(async () => {
    server = await startTestServer();
    model = await startModelServer();
    env = await startTestEnv(
      server.address,
      {
        worker: { backends: ['claude-code', 'command'] },
        agents: { 'claude-code': { model: 'claude-sonnet-4-5', afterResultGrace: '2s' } },
      },
      agentWorkerEnv(model, apiKey),
    );
  });
  after(async () => {
    await env?.stop();
    await model?.close();
    await server?.stop();
  });

  const claudeJob = (repo: string, extra: Partial<JobSpecInput> = {}): JobSpecInput => ({
    repo,
    prompt: 'Write a greeting to greeting.txt',
    agent: { kind: 'claude-code' },
    ...extra,
  });
  const logOf = (jobId: string) =>
    readFileSync(dataPaths(env.config.dataDir).jobLog(jobId), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; type?: string; text: string; argv?: string[] });
  const agentStarts = (jobId: string) => logOf(jobId).filter((e) => e.source === 'drover' && e.argv);
  const mainRequests = () => model.requests.filter((r) => r.main);

  it('delivers a message sent with `temporal workflow signal` into the live Claude Code session', async () => {
    const before = mainRequests().length;
    model.script([
      { run: 'sleep 6; echo slept' },
      // The next request carries whatever the person said meanwhile.
      (req: RecordedRequest) => ({
        write: { path: 'greeting.txt', content: requestText(req).includes('STEER-7781') ? 'heard the person\n' : 'heard nothing\n' },
      }),
      { say: 'Done.' },
    ]);
    const repo = makeRepo();
    const { jobId } = await env.client.submit(claudeJob(repo));
    await waitFor('the first model call', () => (mainRequests().length > before ? true : undefined));

    const temporal = await ensureTemporalCli();
    const signal = await run(temporal, [
      'workflow',
      'signal',
      '--address',
      server.address,
      '--workflow-id',
      jobId,
      '--name',
      'message',
      '--input',
      '{"text": "STEER-7781: greet the person warmly"}',
    ]);
    assert.equal(signal.code, 0, signal.stderr);

    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'heard the person');
    assert.equal(result.messages?.length, 1);
    assert.equal(result.messages?.[0]?.delivered, 'live');
    assert.equal(agentStarts(jobId).length, 1, 'the same run took the message: no second run');
    const marks = logOf(jobId).filter((e) => e.type === 'message' && e.source === 'drover');
    assert.ok(
      marks.some((e) => /delivered: STEER-7781/.test(e.text)),
      `the log marks the delivery: ${marks.map((m) => m.text).join(' | ')}`,
    );
  });

  it("hands a command agent the message in its next run's prompt, and status lists it", async () => {
    const marks = tempDir('drover-steer-');
    // The first run holds until the message is in: a message after the agent's last run waits for a next one.
    const go = tempDir('drover-steer-go-');
    const agent = agentScript(`
n=$(ls "$MARKS" | wc -l)
cp "$DROVER_PROMPT_FILE" "$MARKS/prompt-$n.md"
if [ "$n" = 0 ]; then touch "$MARKS/started"; while [ ! -f "$GO/go" ]; do sleep 0.2; done; fi
echo "run $n" >> notes.txt`);
    const repo = makeRepo();
    const { jobId } = await env.client.submit({
      repo,
      prompt: 'Keep notes',
      agent: { kind: 'command', argv: ['bash', agent], env: { MARKS: marks, GO: go } },
    });
    await waitFor('the first run', () => (existsSync(join(marks, 'started')) ? true : undefined));
    const sent = await drover(env.config, ['say', jobId, 'Please also write the date']);
    assert.equal(sent.code, 0, sent.stderr);
    const status = await drover(env.config, ['status', jobId]);
    assert.match(status.stdout, /messages\n.*not yet delivered: Please also write the date/);
    writeFileSync(join(go, 'go'), '');

    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    const prompts = readdirSync(marks)
      .filter((f) => f.startsWith('prompt-'))
      .sort();
    assert.deepEqual(prompts, ['prompt-0.md', 'prompt-2.md'], 'two runs: the message started the second');
    assert.doesNotMatch(readFileSync(join(marks, 'prompt-0.md'), 'utf8'), /write the date/);
    assert.match(
      readFileSync(join(marks, 'prompt-2.md'), 'utf8'),
      /## Messages from the person who runs this job\n\n- Please also write the date/,
    );
    assert.deepEqual(
      result.messages?.map((m) => [m.text, m.delivered]),
      [['Please also write the date', 'prompt']],
    );
    const bad = await drover(env.config, ['say', jobId, 'too late']);
    assert.equal(bad.code, 2, 'a finished job takes no message');
    assert.match(bad.stderr, /has already ended/);
  });

  it('ends a job past its token budget with BudgetExceeded: the running agent is stopped, and not run again', async () => {
    model.script([{ run: 'echo one' }, { run: 'echo two' }, { run: 'echo three' }, { say: 'Done.' }]);
    const before = mainRequests().length;
    const repo = makeRepo();
    const sub = await drover(env.config, [
      'submit',
      '--repo',
      repo,
      '--agent',
      'claude-code',
      '--prompt',
      'Spend a lot',
      '--budget-tokens',
      String(TOKENS_PER_CALL + 50),
      '--wait',
      '--json',
    ]);
    assert.equal(sub.code, 7, `exit 7 for a spent budget: ${sub.stderr}`);
    const report = JSON.parse(sub.stdout);
    assert.equal(report.result.status, 'failed');
    assert.equal(report.result.failure.type, 'BudgetExceeded');
    assert.match(report.result.failure.message, /budget exceeded: spent \d+ of 200 tokens/);
    assert.ok(report.result.spend.tokens >= 200, JSON.stringify(report.result.spend));
    assert.equal(report.result.budget.tokens, 200);
    assert.equal(mainRequests().length - before, 2, 'stopped after the call that went over');
    assert.equal(agentStarts(report.jobId).length, 1, 'the agent did not run again');
    assert.equal(model.remaining(), 2);

    const status = await drover(env.config, ['status', report.jobId]);
    assert.match(status.stdout, /spent\s+\d+\/200 tokens/);
  });

  it('keeps the work as a commit when the budget says wip, and counts a finished run over its budget', async () => {
    model.script([{ write: { path: 'half.txt', content: 'half done\n' } }, { say: 'Done.' }]);
    const repo = makeRepo();
    const { jobId } = await env.client.submit(claudeJob(repo, { budget: { tokens: TOKENS_PER_CALL + 10, wip: true } }));
    const result = await env.client.result(jobId);
    assert.equal(result.failure?.type, 'BudgetExceeded');
    assert.ok(result.commit, 'the work so far is committed');
    assert.equal(git(repo, 'show', `drover/${jobId}:half.txt`), 'half done');
  });
});

describe('budget across a worker crash', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('counts each model call once when the run is retried after kill -9 and resumes its session', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const model = await startModelServer([{ run: 'echo one' }, { stall: true }]);
    cleanups.push(() => model.close());
    const config = testConfig(server.address);
    const client = await DroverClient.connect(config);
    cleanups.push(() => client.close());
    const configFile = join(tempDir('drover-budget-config-'), 'config.yaml');
    writeFileSync(
      configFile,
      'worker: { backends: [claude-code] }\nagents: { claude-code: { model: claude-sonnet-4-5, afterResultGrace: 2s } }\n',
    );
    const workerEnv = {
      DROVER_CONFIG: configFile,
      DROVER_DOCKER: '0',
      ...agentWorkerEnv(model, `sk-ant-test-${randomBytes(8).toString('hex')}`),
    };

    const first = await workerProcess(config, 'budget-box', workerEnv);
    cleanups.push(async () => first.kill('SIGKILL'));
    const repo = makeRepo();
    const { jobId } = await client.submit({
      repo,
      prompt: 'Take your time',
      agent: { kind: 'claude-code' },
      budget: { tokens: 100_000 },
      timeouts: { heartbeat: '3s' },
    });
    // The session id reaches the server in a heartbeat (about a second) before the worker dies.
    await waitFor('the stalled model call', () => (model.requests.some((r) => r.main && r.step && 'stall' in r.step) ? true : undefined));
    await new Promise((r) => setTimeout(r, 2_500));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    model.script([{ say: 'Done after the crash.' }]);

    const second = await workerProcess(config, 'budget-box', workerEnv);
    cleanups.push(async () => second.kill('SIGTERM'));
    const result = await client.result(jobId);
    assert.equal(result.status, 'no_changes', JSON.stringify(result.failure));
    // A stalled call was never answered, so it cost nothing; every answered one counts.
    const main = model.requests.filter((r) => r.main);
    const calls = main.filter((r) => r.step && !('stall' in r.step)).length;
    assert.ok(main.length > calls && calls >= 2, `calls before and after the crash: ${main.length}, answered ${calls}`);
    assert.equal(
      result.spend?.tokens,
      calls * TOKENS_PER_CALL,
      `each of the ${calls} model calls counted once: ${JSON.stringify(result.usage)}`,
    );
    const starts = readFileSync(dataPaths(config.dataDir).jobLog(jobId), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { argv?: string[] })
      .filter((e) => e.argv);
    assert.equal(starts.length, 2, 'the crashed run and its retry');
    assert.ok(
      starts[1]?.argv?.some((a) => a.startsWith('--resume=')),
      `the retry resumed the session the crashed run began: ${JSON.stringify(starts.map((s) => s.argv?.filter((a) => a.startsWith('--'))))}`,
    );
  });
});

describe("a worker's daily ceiling", () => {
  let server: TestServer;
  let model: ModelServer;
  let env: TestEnv;
  before(async () => {
    server = await startTestServer();
    model = await startModelServer();
    env = await startTestEnv(
      server.address,
      {
        worker: { backends: ['claude-code'], dailyBudget: { tokens: 100 } },
        agents: { 'claude-code': { model: 'claude-sonnet-4-5', afterResultGrace: '2s' } },
      },
      agentWorkerEnv(model, `sk-ant-test-${randomBytes(8).toString('hex')}`),
    );
  });
  after(async () => {
    await env?.stop();
    await model?.close();
    await server?.stop();
  });

  it('stops the run that reaches it, and starts no run on that worker for the rest of the day', async () => {
    model.script([{ run: 'echo one' }, { say: 'Done.' }]);
    const spec = { repo: makeRepo(), prompt: 'Spend', agent: { kind: 'claude-code' as const } };
    const first = await env.client.result((await env.client.submit(spec)).jobId);
    assert.equal(first.failure?.type, 'BudgetExceeded', JSON.stringify(first.failure));
    assert.equal(model.requests.filter((r) => r.main).length, 1, 'stopped after its first model call');
    const second = await env.client.result((await env.client.submit(spec)).jobId);
    assert.equal(second.failure?.type, 'BudgetExceeded');
    assert.match(second.failure?.message ?? '', /this worker's daily ceiling is spent \(\d+ of 100 tokens today\)/);
    assert.equal(model.requests.filter((r) => r.main).length, 1, 'the second job never reached the model');
    const day = JSON.parse(readFileSync(dataPaths(env.config.dataDir).dailySpend(), 'utf8'));
    assert.ok(day.tokens >= 100, JSON.stringify(day));
  });
});
