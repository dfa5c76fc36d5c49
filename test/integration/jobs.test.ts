import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dataPaths } from '../../src/config/paths.js';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { agentScript, git, historyText, makeRepo, serverAndWorker, waitFor } from '../support/harness.js';

describe('a job on a fresh local repo', () => {
  const ctx = serverAndWorker();

  it('edits, validates, commits with trailers to drover/<id> in the origin, and removes the worktree', async () => {
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Say hello to the world in hello.txt',
      agent: { kind: 'command', command: 'echo "hello world" > hello.txt && echo edited' },
      validate: [{ name: 'has-world', command: 'grep -q world hello.txt' }],
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.branch, `drover/${jobId}`);
    assert.ok(result.commit);
    assert.deepEqual(result.files, [{ path: 'hello.txt', added: 1, deleted: 1 }]);
    assert.equal(result.validations.length, 1);
    assert.equal(result.validations[0]?.checks[0]?.passed, true);

    // The branch is in the original repository, one commit on top of main, with the three trailers.
    const main = git(repo, 'rev-parse', 'main');
    assert.equal(git(repo, 'rev-parse', `drover/${jobId}`), result.commit);
    assert.equal(git(repo, 'rev-list', '--count', `main..drover/${jobId}`), '1');
    assert.equal(result.baseCommit, main);
    const body = git(repo, 'log', '-1', '--format=%B', `drover/${jobId}`);
    assert.match(body, new RegExp(`^Drover-Job: ${jobId}$`, 'm'));
    assert.match(body, /^Drover-Agent: command$/m);
    assert.match(body, new RegExp(`^Drover-Base: ${main}$`, 'm'));
    assert.equal(git(repo, 'show', `drover/${jobId}:hello.txt`), 'hello world');
    assert.doesNotMatch(git(repo, 'show', '--stat', '--format=', `drover/${jobId}`), /\.drover/);

    // prepareWorkspace went to the queue of the job's backend; everything after it ran on the private queue
    // of the worker holding the worktree.
    const history = await ctx.env.client.handle(jobId).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
    );
    assert.deepEqual(
      scheduled.map((a) => `${a.activityType?.name}@${a.taskQueue?.name}`),
      [
        `prepareWorkspace@${ctx.env.config.taskQueue}:command`,
        ...['runAgent', 'runValidations', 'commitChanges', 'cleanupWorkspace'].map((n) => `${n}@${ctx.env.worker.hostQueue}`),
      ],
    );

    // The worktree is gone, and so is the mirror's copy of the branch; the origin's working copy is untouched.
    const mirrors = join(ctx.env.config.dataDir, 'mirrors');
    const mirror = join(mirrors, readdirSync(mirrors)[0]!);
    assert.equal(git(mirror, 'branch', '--list', `drover/${jobId}`), '');
    assert.equal(existsSync(`${ctx.env.config.dataDir}/worktrees/${jobId}`), false);
    assert.equal(git(repo, 'status', '--porcelain'), '');
  });

  it('re-runs the agent with the failure output when validation fails, and lists both rounds', async () => {
    const repo = makeRepo();
    // First run writes a wrong answer; the re-run reads the feedback (which carries the check's output) and fixes it.
    const agent = agentScript(`
if [ -n "\${DROVER_FEEDBACK_FILE:-}" ] && grep -q "want 42" "$DROVER_FEEDBACK_FILE" && grep -q "want 42" "$DROVER_PROMPT_FILE"; then
  echo 42 > answer.txt
else
  echo 41 > answer.txt
fi`);
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Write the answer to answer.txt',
      agent: { kind: 'command', argv: ['bash', agent] },
      validate: [{ name: 'answer', command: 'test "$(cat answer.txt)" = 42 || { echo "got $(cat answer.txt), want 42"; exit 3; }' }],
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.revisions, 1);
    assert.equal(result.validations.length, 2);
    const [first, second] = result.validations;
    assert.equal(first?.checks[0]?.passed, false);
    assert.equal(first?.checks[0]?.exitCode, 3);
    assert.match(first?.checks[0]?.outputTail ?? '', /got 41, want 42/);
    assert.equal(second?.checks[0]?.passed, true);
    assert.equal(git(repo, 'show', `drover/${jobId}:answer.txt`), '42');
  });

  it('fails with the rounds listed when validation never passes within maxRevisions', async () => {
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Break things',
      agent: { kind: 'command', command: 'echo broken > broken.txt' },
      validate: [{ name: 'never', command: 'echo nope; exit 1' }],
      maxRevisions: 1,
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.type, 'ValidationFailed');
    assert.equal(result.validations.length, 2);
    assert.equal(result.commit, null);
    assert.throws(() => git(repo, 'rev-parse', '--verify', '--quiet', `drover/${jobId}`));
  });

  it('runs the critic with the diff on stdin and revises when it asks for changes', async () => {
    const repo = makeRepo();
    const critic = agentScript(`
diff=$(cat)
if grep -q "^+polite" <<<"$diff"; then echo '{"approve": true, "comments": "fine"}'; else echo '{"approve": false, "comments": "say it politely"}'; fi`);
    const agent = agentScript(`
if [ -n "\${DROVER_FEEDBACK_FILE:-}" ] && grep -q politely "$DROVER_FEEDBACK_FILE"; then echo polite > tone.txt; else echo rude > tone.txt; fi`);
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Set the tone',
      agent: { kind: 'command', argv: ['bash', agent] },
      critic: { command: `bash ${critic}` },
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.revisions, 1);
    assert.deepEqual(
      result.validations.map((r) => r.critic?.approve),
      [false, true],
    );
    assert.equal(git(repo, 'show', `drover/${jobId}:tone.txt`), 'polite');
  });

  it('reports no_changes and makes no commit when the agent changes nothing', async () => {
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Look, do not touch',
      agent: { kind: 'command', command: 'cat README.md' },
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'no_changes');
    assert.equal(result.commit, null);
    assert.throws(() => git(repo, 'rev-parse', '--verify', '--quiet', `drover/${jobId}`));
  });

  it('uses a base branch other than HEAD', async () => {
    const repo = makeRepo();
    git(repo, 'checkout', '-q', '-b', 'feature');
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'feature work');
    const featureSha = git(repo, 'rev-parse', 'feature');
    git(repo, 'checkout', '-q', 'main');
    const { jobId } = await ctx.env.client.submit({
      repo,
      base: 'feature',
      prompt: 'Add a file',
      agent: { kind: 'command', command: 'echo x > x.txt' },
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.baseCommit, featureSha);
    assert.equal(git(repo, 'rev-parse', `drover/${jobId}~1`), featureSha);
  });

  it('folds commits the agent made itself into the one job commit with trailers', async () => {
    const repo = makeRepo();
    const agent = agentScript(`
echo one > one.txt && git add one.txt && git -c user.name=A -c user.email=a@x commit -qm "agent commit 1"
echo two > two.txt && git add two.txt && git -c user.name=A -c user.email=a@x commit -qm "agent commit 2"
echo three > three.txt`);
    const { jobId } = await ctx.env.client.submit({ repo, prompt: 'Commit as you go', agent: { kind: 'command', argv: ['bash', agent] } });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(git(repo, 'rev-list', '--count', `main..drover/${jobId}`), '1');
    assert.deepEqual(
      result.files.map((f) => f.path),
      ['one.txt', 'three.txt', 'two.txt'],
    );
    assert.match(git(repo, 'log', '-1', '--format=%B', `drover/${jobId}`), new RegExp(`Drover-Job: ${jobId}`));
  });

  it("keeps the worker's secrets out of the workflow history even when the agent and checks print them", async () => {
    const secret = ctx.env.secret;
    const repo = makeRepo();
    const agent = agentScript(`echo "my key is $DROVER_TEST_API_KEY"; echo x > x.txt
printf '{"question": "is %s right?"}' "$DROVER_TEST_API_KEY" > .drover/question.json`);
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Leak it',
      agent: { kind: 'command', argv: ['bash', agent] },
      validate: [{ name: 'leaky', command: 'echo "token=$DROVER_TEST_API_KEY"; exit 1' }],
      maxRevisions: 0,
      timeouts: { humanAnswer: '1s' },
    });
    await ctx.env.client.result(jobId).catch(() => undefined);
    const text = historyText(await ctx.env.client.handle(jobId).fetchHistory());
    assert.match(text, /my key is \[redacted:DROVER_TEST_API_KEY\]/, 'the agent output reached the history, redacted');
    assert.ok(!text.includes(secret), 'the secret value is nowhere in the history');
    const log = readFileSync(dataPaths(ctx.env.config.dataDir).jobLog(jobId), 'utf8');
    assert.match(log, /my key is \[redacted:DROVER_TEST_API_KEY\]/, 'the job log has the agent output, redacted');
    assert.ok(!log.includes(secret), 'the secret is not in the job log on disk');
    assert.ok(!JSON.stringify(await ctx.env.client.status(jobId)).includes(secret));
    assert.match(JSON.stringify(await ctx.env.client.status(jobId)), /\[redacted:DROVER_TEST_API_KEY\]/);
  });

  it('redacts a secret in check output before the output tail cuts it, and in the job log', async () => {
    const secret = ctx.env.secret;
    const { jobId } = await ctx.env.client.submit({
      repo: makeRepo(),
      prompt: 'Leak it in checks',
      agent: { kind: 'command', command: 'echo x > x.txt' },
      validate: [
        { name: 'leaky', command: 'echo "token=$DROVER_TEST_API_KEY"; exit 1' },
        // The output tail (1,500 characters) starts inside the key: cut first and redacted after, half of it would stay.
        { name: 'cut', command: `printf '%s%1480s\\n' "$DROVER_TEST_API_KEY" '' | tr ' ' y; exit 1` },
      ],
      maxRevisions: 0,
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.failure?.type, 'ValidationFailed');
    const tails = result.validations[0]!.checks.map((c) => c.outputTail);
    assert.match(tails[0]!, /token=\[redacted:DROVER_TEST_API_KEY\]/);
    assert.match(tails[1]!, /^.{0,30}yyyy/, 'the tail starts within the redaction mark');
    const text = historyText(await ctx.env.client.handle(jobId).fetchHistory());
    assert.ok(!text.includes(secret.slice(-16)), 'no half of the key in the history');
    const log = readFileSync(dataPaths(ctx.env.config.dataDir).jobLog(jobId), 'utf8');
    assert.match(log, /token=\[redacted:DROVER_TEST_API_KEY\]/);
    assert.ok(!log.includes(secret.slice(-16)), 'nor in the job log on disk');
  });

  it("keeps the worker's secrets out of the live heartbeat progress shown by status", async () => {
    const agent = agentScript('echo "using key $DROVER_TEST_API_KEY"; sleep 60');
    const { jobId } = await ctx.env.client.submit({
      repo: makeRepo(),
      prompt: 'Print and wait',
      agent: { kind: 'command', argv: ['bash', agent] },
    });
    const progress = await waitFor('heartbeat progress', async () => {
      const p = (await ctx.env.client.status(jobId)).activity?.progress;
      return p?.includes('using key') ? p : undefined;
    });
    assert.equal(progress, 'message: using key [redacted:DROVER_TEST_API_KEY]');
    await ctx.env.client.cancel(jobId);
    await ctx.env.client.result(jobId).catch(() => undefined);
  });
});
