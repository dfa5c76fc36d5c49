import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pickWinner } from '../../src/shared/select-winner.js';
import { agentScript, drover, git, isAlive, makeRepo, serverAndWorker, tempDir, waitFor } from '../support/harness.js';

/** The attempt's number, from its worktree (`worktrees/<id>.<n>`), for scripts that behave by attempt. */
const ATTEMPT = `n="\${PWD##*.}"`;

const hasBranch = (repo: string, branch: string) => {
  try {
    return git(repo, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
  } catch {
    return undefined;
  }
};

describe('best of N attempts', () => {
  const ctx = serverAndWorker();

  it('runs three attempts; the one that passes and the critic approves wins and lands on drover/<id>', async () => {
    const repo = makeRepo();
    // 1 fails validation; 2 passes it but the critic asks for changes; 3 passes, is approved, and is the biggest and last.
    const agent = agentScript(`${ATTEMPT}
case "$n" in
  1) echo 41 > answer.txt ;;
  2) echo 42 > answer.txt ;;
  3) sleep 1; echo 42 > answer.txt; printf 'polite\\nand\\nthorough\\n' > notes.txt ;;
esac`);
    const critic = agentScript(
      `if grep -q '^+polite' <<<"$(cat)"; then echo '{"approve": true}'; else echo '{"approve": false, "comments": "be polite"}'; fi`,
    );
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Answer in answer.txt',
      agent: { kind: 'command', argv: ['bash', agent] },
      validate: [{ name: 'answer', command: 'test "$(cat answer.txt)" = 42' }],
      critic: { command: `bash ${critic}` },
      maxRevisions: 0,
      attempts: 3,
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(result.winner, 2);
    assert.deepEqual(result.selection, { by: 'rule' });
    const cs = result.candidates ?? [];
    assert.deepEqual(
      cs.map((c) => [c.jobId, c.agent, c.status, c.checks.passed, c.checks.failed, c.approved]),
      [
        [`${jobId}.1`, 'command', 'failed', 0, 1, null],
        [`${jobId}.2`, 'command', 'failed', 1, 0, false],
        [`${jobId}.3`, 'command', 'succeeded', 1, 0, true],
      ],
    );
    assert.equal(cs[2]?.diff, 4);
    assert.equal(cs[2]?.finished, 3);
    assert.deepEqual(
      cs.map((c) => c.branch),
      [1, 2, 3].map((n) => `drover/${jobId}.${n}`),
    );

    // The winner's commit is on drover/<id> and stays on its own branch; the others keep their work on theirs.
    assert.equal(result.branch, `drover/${jobId}`);
    assert.equal(result.commit, cs[2]?.commit);
    assert.equal(hasBranch(repo, `drover/${jobId}`), result.commit);
    assert.equal(hasBranch(repo, `drover/${jobId}.3`), result.commit);
    assert.equal(hasBranch(repo, `drover/${jobId}.1`), cs[0]?.commit);
    assert.equal(hasBranch(repo, `drover/${jobId}.2`), cs[1]?.commit);
    assert.ok(cs[0]?.commit && cs[1]?.commit, 'the failed attempts committed their work');
    assert.equal(git(repo, 'show', `drover/${jobId}.1:answer.txt`), '41');
    assert.equal(git(repo, 'show', `drover/${jobId}:notes.txt`), 'polite\nand\nthorough');

    // status and result show the candidates.
    const shown = await drover(ctx.env.config, ['status', jobId]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /candidates \(winner: 2, by the rule\)/);
    assert.match(shown.stdout, new RegExp(`\\* 2 ${jobId}\\.3 command succeeded: checks 1/1 passed, critic approved`));
    const json = JSON.parse((await drover(ctx.env.config, ['result', jobId, '--json'])).stdout);
    assert.equal(json.result.candidates.length, 3);
    assert.equal(json.result.winner, 2);
    for (const n of [1, 2, 3]) assert.equal(existsSync(join(ctx.env.config.dataDir, 'worktrees', `${jobId}.${n}`)), false);
  });

  it('cancelling the job cancels every attempt: their processes end within 5 s and their worktrees go', async () => {
    const marks = tempDir('drover-marks-');
    const agent = agentScript(`${ATTEMPT}
sleep 600 &
echo $! > "$MARKS/child-$n.pid"
echo $$ > "$MARKS/agent-$n.pid"
wait`);
    const { jobId } = await ctx.env.client.submit({
      repo: makeRepo(),
      prompt: 'Hang',
      agent: { kind: 'command', argv: ['bash', agent], env: { MARKS: marks } },
      timeouts: { heartbeat: '5s' },
      attempts: 3,
    });
    const pids = await waitFor('three agents to start', () => {
      const files = readdirSync(marks).filter((f) => f.endsWith('.pid'));
      return files.length === 6 ? files.map((f) => Number(readFileSync(join(marks, f), 'utf8').trim())) : undefined;
    });
    assert.ok(pids.every(isAlive));
    const report = await ctx.env.client.status(jobId);
    assert.equal(report.phase, 'running_attempts');
    assert.deepEqual(
      report.attempts?.map((a) => [a.jobId, a.phase]),
      [1, 2, 3].map((n) => [`${jobId}.${n}`, 'running_agent']),
    );

    const cancelled = Date.now();
    const r = await drover(ctx.env.config, ['cancel', jobId]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('every attempt process to die', () => pids.every((p) => !isAlive(p)) || undefined, 5_000);
    const killMs = Date.now() - cancelled;

    await assert.rejects(ctx.env.client.result(jobId));
    const after = await ctx.env.client.status(jobId);
    assert.equal(after.execution, 'CANCELLED');
    for (const n of [1, 2, 3]) {
      const child = await ctx.env.client.status(`${jobId}.${n}`);
      assert.equal(child.execution, 'CANCELLED', `${jobId}.${n}`);
      assert.equal(existsSync(join(ctx.env.config.dataDir, 'worktrees', `${jobId}.${n}`)), false);
    }
    console.log(`all attempts' processes gone ${killMs} ms after drover cancel`);
  });

  it('a select command picks a winner other than the rule, and one that fails leaves it to the rule', async () => {
    const repo = makeRepo();
    // Every attempt succeeds; attempt n writes n lines, so the rule would choose the first.
    const agent = agentScript(`${ATTEMPT}
seq "$n" > lines.txt`);
    const marks = tempDir('drover-select-');
    // The select command sees the candidates on stdin (kept for the test) and chooses the biggest diff.
    const select = agentScript(`cat > "$MARKS/candidates.json"
echo "looking at them"
node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(c.reduce((b, x) => (x.diff > c[b].diff ? x.index : b), 0))' "$MARKS/candidates.json"`);
    const spec = {
      repo,
      prompt: 'Write lines',
      agent: { kind: 'command' as const, argv: ['bash', agent] },
      validate: [{ name: 'lines', command: 'test -s lines.txt' }],
      attempts: 3,
    };
    const { jobId } = await ctx.env.client.submit({ ...spec, select: { command: `MARKS=${marks} bash ${select}` } });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    const cs = result.candidates ?? [];
    assert.deepEqual(
      cs.map((c) => c.diff),
      [1, 2, 3],
    );
    assert.equal(pickWinner(cs), 0);
    assert.equal(result.winner, 2);
    assert.deepEqual(result.selection, { by: 'select' });
    const seen = JSON.parse(readFileSync(join(marks, 'candidates.json'), 'utf8'));
    assert.deepEqual(
      seen.map((c: { index: number; jobId: string }) => [c.index, c.jobId]),
      cs.map((c, i) => [i, c.jobId]),
    );
    // Every attempt's branch stays; drover/<id> has the chosen one's commit. The select's workspace is gone.
    for (const [i, c] of cs.entries()) assert.equal(hasBranch(repo, `drover/${jobId}.${i + 1}`), c.commit);
    assert.equal(hasBranch(repo, `drover/${jobId}`), cs[2]?.commit);
    assert.equal(existsSync(join(ctx.env.config.dataDir, 'worktrees', `${jobId}.select`)), false);

    const broken = await ctx.env.client.submit({ ...spec, select: { command: 'echo 1; exit 3' } });
    const fallback = await ctx.env.client.result(broken.jobId);
    assert.equal(fallback.winner, 0);
    assert.equal(fallback.selection?.by, 'rule');
    assert.match(fallback.selection?.note ?? '', /exited with 3/);
    assert.equal(hasBranch(repo, `drover/${broken.jobId}`), fallback.candidates?.[0]?.commit);
  });

  it("shows an attempt's question in the job's status, and routes the job's answer to it", async () => {
    const repo = makeRepo();
    const agent = agentScript(`${ATTEMPT}
if [ "$n" = 2 ]; then seq 5 > out.txt; exit 0; fi
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then printf '{"question": "Which word?"}' > "$DROVER_QUESTION_FILE"; exit 0; fi
cp "$DROVER_ANSWER_FILE" out.txt`);
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Write a word',
      agent: { kind: 'command', argv: ['bash', agent] },
      attempts: 2,
    });
    const asking = await waitFor('the question', async () => {
      const r = await ctx.env.client.status(jobId);
      return r.attempts?.find((a) => a.pendingQuestion) ? r : undefined;
    });
    assert.deepEqual(
      asking.attempts?.map((a) => [a.jobId, a.phase, a.pendingQuestion]),
      [
        [`${jobId}.1`, 'waiting_for_human', 'Which word?'],
        [`${jobId}.2`, asking.attempts?.[1]?.phase, undefined],
      ],
    );
    const shown = await drover(ctx.env.config, ['status', jobId]);
    assert.match(shown.stdout, new RegExp(`answer with: drover answer ${jobId}\\.1`));
    const answered = await drover(ctx.env.config, ['answer', jobId, 'right']);
    assert.equal(answered.code, 0, answered.stderr);
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.winner, 0);
    assert.deepEqual(result.questions, [{ question: 'Which word?', answer: 'right' }]);
    assert.equal(git(repo, 'show', `drover/${jobId}:out.txt`), 'right');
  });
});
