import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { agentScript, drover, git, makeRepo, run, serverAndWorker, waitFor } from '../support/harness.js';

/** Asks on its first run; on the next run writes the answer it was given into greeting.txt. */
const ASKING_AGENT = `
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then
  echo "I need to know the greeting"
  printf '{"question": "Which greeting should I write?"}' > .drover/question.json
  exit 0
fi
grep -q "Which greeting" "$DROVER_PROMPT_FILE"
cat "$DROVER_ANSWER_FILE" > greeting.txt`;

describe('ask and answer', () => {
  const ctx = serverAndWorker();

  async function submitAsking(): Promise<{ jobId: string; repo: string }> {
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Write a greeting to greeting.txt; ask me which one',
      agent: { kind: 'command', argv: ['bash', agentScript(ASKING_AGENT)] },
      validate: [{ name: 'non-empty', command: 'test -s greeting.txt' }],
    });
    await waitFor('the question', async () => (await ctx.env.client.status(jobId)).status?.pendingQuestion ?? undefined);
    return { jobId, repo };
  }

  it('shows the question in status and list, and resumes on the real `temporal workflow signal`', async () => {
    const { jobId, repo } = await submitAsking();

    const status = await drover(ctx.env.config, ['status', jobId, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout);
    assert.equal(report.phase, 'waiting_for_human');
    assert.equal(report.status.pendingQuestion, 'Which greeting should I write?');
    const human = await drover(ctx.env.config, ['status', jobId]);
    assert.match(human.stdout, /question\s+Which greeting should I write\?/);

    const listed = await waitFor('the job in list --status waiting_for_human', async () => {
      const r = await drover(ctx.env.config, ['list', '--status', 'waiting_for_human', '--json']);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { jobId: string; question?: string }[]).find((j) => j.jobId === jobId);
    });
    assert.equal(listed.question, 'Which greeting should I write?');

    const temporal = await ensureTemporalCli();
    const signal = await run(temporal, [
      'workflow',
      'signal',
      '--address',
      ctx.server.address,
      '--workflow-id',
      jobId,
      '--name',
      'answer',
      '--input',
      '{"text": "Ahoy there"}',
    ]);
    assert.equal(signal.code, 0, signal.stderr);

    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.questions, [{ question: 'Which greeting should I write?', answer: 'Ahoy there' }]);
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Ahoy there');
    assert.doesNotMatch(git(repo, 'ls-tree', '-r', '--name-only', `drover/${jobId}`), /\.drover/);
  });

  it('resumes through `drover answer`', async () => {
    const { jobId, repo } = await submitAsking();
    const answered = await drover(ctx.env.config, ['answer', jobId, 'Good', 'morning']);
    assert.equal(answered.code, 0, answered.stderr);
    const result = await drover(ctx.env.config, ['result', jobId, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).result.status, 'succeeded');
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Good morning');
  });

  it('refuses an answer when no question is pending', async () => {
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({ repo, prompt: 'Quick', agent: { kind: 'command', command: 'echo a > a.txt' } });
    await ctx.env.client.result(jobId);
    const r = await drover(ctx.env.config, ['answer', jobId, 'too late']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not running/);
  });

  it('fails with HumanTimeout when nobody answers in time, and still removes the worktree', async () => {
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Ask and wait',
      agent: { kind: 'command', argv: ['bash', agentScript(ASKING_AGENT)] },
      timeouts: { humanAnswer: '2s' },
    });
    const r = await drover(ctx.env.config, ['result', jobId, '--json']);
    assert.equal(r.code, 6);
    assert.equal(JSON.parse(r.stdout).failure.type, 'HumanTimeout');
    await waitFor('worktree removal', () => !existsSync(`${ctx.env.config.dataDir}/worktrees/${jobId}`) || undefined);
  });
});
