/**
 * Records workflow histories for the replay test: `node --import tsx test/support/record-histories.ts`.
 * Run it when the workflow changes on purpose (with patched() for running jobs), and commit the new files
 * beside the old ones: old histories must keep replaying.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { agentWorkerEnv } from './agent-env.js';
import { agentScript, makeRepo, run, startTestEnv, startTestServer, tempDir, waitFor } from './harness.js';
import { startModelServer } from './model-server.js';

const OUT = new URL('../fixtures/histories/', import.meta.url).pathname;
const version = process.argv[2] ?? 'v1';

const server = await startTestServer();
const model = await startModelServer();
const env = await startTestEnv(
  server.address,
  {
    worker: { backends: ['command', 'claude-code'] },
    agents: { 'claude-code': { model: 'claude-sonnet-4-5' } },
    // The setup recordings take validation from a .drover.yml, on the host.
    repos: { trustConfig: ['/tmp/**'] },
    notify: { jobWebhookAllow: ['http://127.0.0.1:*/**'] },
  },
  agentWorkerEnv(model, 'sk-ant-recording-key'),
);
try {
  mkdirSync(OUT, { recursive: true });
  const save = async (name: string, jobId: string) => {
    // The JSON the real CLI prints is what users export too; the replayer reads it as is.
    const shown = await run(await ensureTemporalCli(), ['workflow', 'show', '--address', server.address, '-w', jobId, '--output', 'json']);
    if (shown.code !== 0) throw new Error(shown.stderr);
    writeFileSync(`${OUT}/${version}-${name}.json`, shown.stdout);
    console.log(`recorded ${version}-${name}.json (${(JSON.parse(shown.stdout).events as unknown[]).length} events)`);
  };

  const simple = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Edit hello.txt',
    agent: { kind: 'command', command: 'echo edited > hello.txt' },
    validate: [{ name: 'check', command: 'grep -q edited hello.txt' }],
  });
  await env.client.result(simple.jobId);
  await save('succeeded', simple.jobId);

  const asking = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Ask, then revise once after a failing check',
    agent: {
      kind: 'command',
      argv: [
        'bash',
        agentScript(`
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then printf '{"question": "Which?"}' > .drover/question.json; exit 0; fi
if [ -n "\${DROVER_FEEDBACK_FILE:-}" ]; then cp "$DROVER_ANSWER_FILE" out.txt; else echo wrong > out.txt; fi`),
      ],
    },
    validate: [{ name: 'check', command: 'grep -q right out.txt' }],
  });
  await waitFor('the question', async () => (await env.client.status(asking.jobId)).status?.pendingQuestion ?? undefined);
  await env.client.answer(asking.jobId, 'right');
  await env.client.result(asking.jobId);
  await save('ask-revise', asking.jobId);

  const reviewed = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Critic rejects, then approves; then nobody answers',
    agent: {
      kind: 'command',
      argv: [
        'bash',
        agentScript(`
if [ -n "\${DROVER_FEEDBACK_FILE:-}" ]; then printf '{"question": "Anyone?"}' > .drover/question.json; fi
echo v >> v.txt`),
      ],
    },
    critic: {
      command:
        'cat > /dev/null; if [ -f .reviewed ]; then echo \'{"approve": true}\'; else touch .reviewed; echo \'{"approve": false, "comments": "again"}\'; fi',
    },
    timeouts: { humanAnswer: '1s' },
  });
  await env.client.result(reviewed.jobId).catch(() => undefined);
  await save('critic-human-timeout', reviewed.jobId);

  // Setup with a cache and teardown, validation from the repository's .drover.yml (v4 and later).
  const setUp = await env.client.submit({
    repo: makeRepo({
      '.drover.yml': 'validate: [grep -q edited hello.txt]\n',
      'hello.txt': 'hi\n',
      'deps.lock': '1\n',
      '.gitignore': 'deps/\n',
    }),
    prompt: 'Edit hello.txt after setup',
    agent: { kind: 'command', command: 'echo edited > hello.txt' },
    setup: ['mkdir -p deps && echo x > deps/a'],
    teardown: ['true'],
    cache: [{ key: ['deps.lock'], paths: ['deps'] }],
  });
  await env.client.result(setUp.jobId);
  await save('setup-cache-teardown', setUp.jobId);

  const setupFailed = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Never runs',
    agent: { kind: 'command', command: 'echo edited > hello.txt' },
    setup: ['echo broken >&2; exit 3'],
    teardown: ['true'],
  });
  await env.client.result(setupFailed.jobId);
  await save('setup-failed', setupFailed.jobId);

  const cancelled = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Hang',
    agent: { kind: 'command', command: 'echo started; sleep 600' },
  });
  await waitFor('the agent', async () => (await env.client.status(cancelled.jobId)).activity?.type === 'runAgent' || undefined);
  await env.client.cancel(cancelled.jobId);
  await env.client.result(cancelled.jobId).catch(() => undefined);
  await save('cancelled', cancelled.jobId);

  // A real CLI with a native question: session resume, usage, answering 'native'.
  model.script([
    { ask: { question: 'Which greeting?', options: ['Hello', 'Howdy'] } },
    { write: { path: 'greeting.txt', content: 'Howdy\n' } },
    { say: 'Done.' },
  ]);
  const claude = await env.client.submit({ repo: makeRepo(), prompt: 'Write a greeting; ask which', agent: { kind: 'claude-code' } });
  await waitFor('the question', async () => (await env.client.status(claude.jobId)).status?.pendingQuestion ?? undefined);
  await env.client.answer(claude.jobId, 'Howdy');
  await env.client.result(claude.jobId);
  await save('claude-native-question', claude.jobId);

  // Best of N (bestOfJob, v6 and later): two attempts as child workflows, a select command, the winner published.
  const bestOf = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Write n lines',
    agent: { kind: 'command', command: `n="\${PWD##*.}"; seq "$n" > lines.txt` },
    validate: [{ name: 'check', command: 'test -s lines.txt' }],
    attempts: 2,
    select: { command: 'cat > /dev/null; echo 1' },
  });
  await env.client.result(bestOf.jobId);
  await save('best-of-select', bestOf.jobId);

  // The merge queue (v6 and later): a job whose commit conflicts, is sent back, resolved and lands; the
  // repository's integration workflow that landed it; and a best-of-N job whose winner lands.
  const origin = `${tempDir('drover-origin-')}/origin.git`;
  execFileSync('git', ['clone', '-q', '--bare', makeRepo(), origin]);
  const base = execFileSync('git', ['-C', origin, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
  const first = await env.client.submit({
    repo: origin,
    prompt: 'first',
    agent: { kind: 'command', command: 'echo first > hello.txt' },
    validate: [{ name: 'check', command: 'test -s hello.txt' }],
    integrate: { into: 'main' },
  });
  await env.client.result(first.jobId);
  const resolver = agentScript(`
if grep -q 'conflicts in: hello.txt' "$DROVER_PROMPT_FILE"; then printf 'first\\nsecond\\n' > hello.txt; else echo second > hello.txt; fi`);
  const second = await env.client.submit({
    repo: origin,
    base,
    prompt: 'second',
    agent: { kind: 'command', argv: ['bash', resolver] },
    validate: [{ name: 'check', command: 'test -s hello.txt' }],
    integrate: { into: 'main' },
  });
  await env.client.result(second.jobId);
  await save('integrated-sent-back', second.jobId);
  const bestOfLanded = await env.client.submit({
    repo: origin,
    prompt: 'best of two, landed',
    agent: { kind: 'command', command: 'echo "$PWD" > where.txt' },
    attempts: 2,
    integrate: { into: 'main' },
  });
  await env.client.result(bestOfLanded.jobId);
  await save('best-of-integrated', bestOfLanded.jobId);
  await save('integration-queue', (await env.client.queue(origin, 'main')).workflowId);

  // Steering and budgets (v7 and later): a message into Claude's live session, one in a command agent's next
  // prompt, and a job stopped by its token budget with its work kept.
  model.script([{ run: 'sleep 5; echo slept' }, { write: { path: 'greeting.txt', content: 'hi\n' } }, { say: 'Done.' }]);
  const callsBefore = model.requests.filter((r) => r.main).length;
  const steered = await env.client.submit({ repo: makeRepo(), prompt: 'Write a greeting', agent: { kind: 'claude-code' } });
  await waitFor('its first model call', () => (model.requests.filter((r) => r.main).length > callsBefore ? true : undefined));
  await env.client.message(steered.jobId, 'Make it warm');
  const steeredResult = await env.client.result(steered.jobId);
  if (steeredResult.messages?.[0]?.delivered !== 'live') throw new Error('the message did not reach the live session');
  await save('steered-live', steered.jobId);

  const go = tempDir('drover-go-');
  const prompted = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Keep notes',
    agent: {
      kind: 'command',
      command: `[ -f "${go}/ran" ] || { touch "${go}/ran"; while [ ! -f "${go}/go" ]; do sleep 0.2; done; }; echo n >> notes.txt`,
    },
  });
  await waitFor('the first run', () => (existsSync(`${go}/ran`) ? true : undefined));
  await env.client.message(prompted.jobId, 'Write the date too');
  await waitFor('the message', async () => ((await env.client.status(prompted.jobId)).status?.messages?.length ? true : undefined));
  writeFileSync(`${go}/go`, '');
  await env.client.result(prompted.jobId);
  await save('steered-prompt', prompted.jobId);

  model.script([{ write: { path: 'half.txt', content: 'half\n' } }, { say: 'Done.' }]);
  const spent = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Spend',
    agent: { kind: 'claude-code' },
    budget: { tokens: 160, wip: true },
  });
  await env.client.result(spent.jobId);
  await save('budget-exceeded', spent.jobId);

  // Subtasks (v7 and later): two children from a snapshot, one asks and the parent's agent answers, both merged.
  const tree = agentScript(`
case "$(cat "$DROVER_PROMPT_FILE")" in
  *"You are answering a question from a subtask"*) printf 'blue' > "$DROVER_OUTPUT_DIR/answer.md"; exit 0 ;;
  *TASK-A*) echo a > a.txt; exit 0 ;;
  *TASK-B*)
    if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then printf '{"question": "Which colour?"}' > "$DROVER_QUESTION_FILE"; exit 0; fi
    cp "$DROVER_ANSWER_FILE" b.txt; exit 0 ;;
esac
if grep -q "Your subtasks ran" "$DROVER_PROMPT_FILE"; then echo done > parent.txt; exit 0; fi
printf '[{"title": "a", "prompt": "TASK-A", "validate": false}, {"title": "b", "prompt": "TASK-B"}]' > "$DROVER_SUBTASKS_FILE"`);
  const split = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Split the work',
    agent: { kind: 'command', argv: ['bash', tree] },
    validate: [{ name: 'check', command: 'true' }],
  });
  await env.client.result(split.jobId);
  await save('subtasks', split.jobId);
  await save('subtask-asked', `${split.jobId}.s2`);

  // Notifications (v7 and later): a job with its own webhook gets a notify child workflow per event.
  const hooks = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
  const notified = await env.client.submit({
    repo: makeRepo(),
    prompt: 'Edit hello.txt',
    agent: { kind: 'command', command: 'echo edited > hello.txt' },
    notify: { webhooks: [{ url: hookUrl, events: ['succeeded', 'failed'] }] },
  });
  await env.client.result(notified.jobId);
  await save('notified', notified.jobId);
  hooks.close();
} finally {
  await model.close();
  await env.stop();
  await server.stop();
}
