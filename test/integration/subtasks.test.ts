import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WORKFLOW_TYPE } from '../../src/client.js';
import { dataPaths } from '../../src/config/paths.js';
import { subtaskBaseRef } from '../../src/shared/ids.js';
import { JobInput } from '../../src/shared/schemas.js';
import { agentScript, drover, git, isAlive, makeRepo, serverAndWorker, tempDir, waitFor } from '../support/harness.js';

/**
 * One script for the parent, its children and the parent's answerer, acting by its prompt. Every prompt is
 * kept in $MARKS/<job>.prompts, so the test can read what each agent was told.
 */
const TREE_AGENT = `
job="$(basename "$DROVER_WORKTREE")"
prompt="$(cat "$DROVER_PROMPT_FILE")"
printf '%s\\n=====\\n' "$prompt" >> "$MARKS/$job.prompts"
case "$prompt" in
  *"You are answering a question from a subtask"*)
    echo "answering for $job" > "$MARKS/answered-by-parent"
    printf 'Use the word PARENT' > "$DROVER_OUTPUT_DIR/answer.md"
    exit 0 ;;
  *TASK-A*) echo "a from $job" > a.txt; exit 0 ;;
  *TASK-B*)
    if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then printf '{"question": "Which word goes in b.txt?"}' > "$DROVER_QUESTION_FILE"; exit 0; fi
    cat "$DROVER_ANSWER_FILE" > b.txt; exit 0 ;;
  *TASK-C*) echo c > c.txt; exit 0 ;;
esac
if grep -q "Drover refused" "$DROVER_PROMPT_FILE"; then echo done > parent.txt; exit 0; fi
if grep -q "Your subtasks ran" "$DROVER_PROMPT_FILE"; then
  printf '[{"title": "third", "prompt": "TASK-C"}]' > "$DROVER_SUBTASKS_FILE"; exit 0
fi
printf '[{"title": "write a", "prompt": "TASK-A: write a.txt", "validate": false}, {"title": "write b", "prompt": "TASK-B: write b.txt"}]' > "$DROVER_SUBTASKS_FILE"`;

/** Each level asks for one subtask a level down, until Drover refuses; each writes level-<n>.txt. */
const CHAIN_AGENT = `
job="$(basename "$DROVER_WORKTREE")"
level="$(grep -o 'CHAIN level [0-9]*' "$DROVER_PROMPT_FILE" | head -1 | awk '{print $3}')"
if grep -q "Drover refused" "$DROVER_PROMPT_FILE"; then cp "$DROVER_PROMPT_FILE" "$MARKS/refused-$job"; echo "$level" > "level-$level.txt"; exit 0; fi
if grep -q "Your subtasks ran" "$DROVER_PROMPT_FILE"; then echo "$level" > "level-$level.txt"; exit 0; fi
printf '[{"title": "level %s", "prompt": "CHAIN level %s"}]' $((level + 1)) $((level + 1)) > "$DROVER_SUBTASKS_FILE"`;

/** The parent asks for two children that hang, each recording its pid and its sleep's. */
const HANGING_AGENT = `
job="$(basename "$DROVER_WORKTREE")"
if grep -q HANG "$DROVER_PROMPT_FILE"; then
  sleep 600 &
  echo $! > "$MARKS/$job.sleep.pid"
  echo $$ > "$MARKS/$job.agent.pid"
  wait
fi
# A change first, so the children's base is a new commit the mirror keeps under a ref.
echo started > parent.txt
printf '[{"title": "one", "prompt": "HANG 1"}, {"title": "two", "prompt": "HANG 2"}]' > "$DROVER_SUBTASKS_FILE"`;

/** Two children write the same file differently; the parent resolves the conflict it is told about. */
const CONFLICT_AGENT = `
case "$(cat "$DROVER_PROMPT_FILE")" in
  *WRITE-X*) echo "x from one" > shared.txt; exit 0 ;;
  *WRITE-Y*) echo "y from two" > shared.txt; exit 0 ;;
esac
if grep -q "conflict markers in: shared.txt" "$DROVER_PROMPT_FILE"; then
  cp shared.txt "$MARKS/merged.txt"; echo resolved > shared.txt; exit 0
fi
printf '[{"title": "x", "prompt": "WRITE-X"}, {"title": "y", "prompt": "WRITE-Y"}]' > "$DROVER_SUBTASKS_FILE"`;

/** The parent writes a file first, so its snapshot is a new commit; each child writes only if it sees that file. */
const SNAPSHOT_AGENT = `
case "$(cat "$DROVER_PROMPT_FILE")" in
  *WRITE-ONE*) if [ -f parent-first.txt ]; then echo one > one.txt; fi; exit 0 ;;
  *WRITE-TWO*) if [ -f parent-first.txt ]; then echo two > two.txt; fi; exit 0 ;;
esac
if grep -q "Your subtasks ran" "$DROVER_PROMPT_FILE"; then echo after > parent-after.txt; exit 0; fi
echo first > parent-first.txt
printf '[{"title": "one", "prompt": "WRITE-ONE"}, {"title": "two", "prompt": "WRITE-TWO"}]' > "$DROVER_SUBTASKS_FILE"`;

describe('subtasks', () => {
  const ctx = serverAndWorker();

  it('runs two children on their own branches, merges them, answers a child from the parent, refuses a third', async () => {
    const repo = makeRepo();
    const marks = tempDir('drover-subtasks-');
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Split the work',
      agent: { kind: 'command', argv: ['bash', agentScript(TREE_AGENT)], env: { MARKS: marks } },
      validate: [{ name: 'tree', command: 'true' }],
      subtasks: { perParent: 2 },
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    const [a, b] = [`${jobId}.s1`, `${jobId}.s2`];
    assert.deepEqual(
      result.subtasks?.map((s) => [s.id, s.status, s.branch]),
      [
        [a, 'succeeded', `drover/${a}`],
        [b, 'succeeded', `drover/${b}`],
      ],
    );
    // Each child committed on its own branch in the origin, from the parent's snapshot.
    assert.equal(git(repo, 'show', `drover/${a}:a.txt`), `a from ${a}`);
    assert.equal(git(repo, 'show', `drover/${b}:b.txt`), 'Use the word PARENT');
    assert.doesNotMatch(git(repo, 'ls-tree', '-r', '--name-only', `drover/${a}`), /b\.txt/);
    // The parent's final commit holds both children's work and its own.
    const files = git(repo, 'ls-tree', '-r', '--name-only', `drover/${jobId}`).split('\n');
    for (const f of ['a.txt', 'b.txt', 'parent.txt']) assert.ok(files.includes(f), `${f} in ${files.join(' ')}`);
    assert.ok(!files.includes('c.txt'));
    assert.equal(git(repo, 'show', `drover/${jobId}:b.txt`), 'Use the word PARENT');
    // The child's question was answered by the parent's agent (its answerer run), and no person was asked.
    const child = await ctx.env.client.result(b);
    assert.deepEqual(child.questions, [{ question: 'Which word goes in b.txt?', answer: 'Use the word PARENT' }]);
    assert.match(readFileSync(join(marks, 'answered-by-parent'), 'utf8'), new RegExp(b.replaceAll('.', '\\.')));
    const answererPrompt = readFileSync(join(marks, `${b}.prompts`), 'utf8');
    assert.match(answererPrompt, /Split the work[\s\S]*TASK-B[\s\S]*Which word goes in b\.txt\?/);
    // The parent's agent heard each child's result, then the refusal of the third.
    const told = readFileSync(join(marks, `${jobId}.prompts`), 'utf8');
    assert.match(told, new RegExp(`${a.replaceAll('.', '\\.')} "write a": succeeded[^\\n]*\\n  files: a\\.txt\\n  validation: none`));
    assert.match(
      told,
      new RegExp(`${b.replaceAll('.', '\\.')} "write b": succeeded[^\\n]*\\n  files: b\\.txt\\n  validation: passed \\(tree\\)`),
    );
    assert.match(told, /Drover refused your request for 1 subtask\(s\): a job may start at most 2 subtask\(s\) and this one started 2/);
    assert.equal(existsSync(`${ctx.env.config.dataDir}/worktrees/${jobId}.s3`), false);
    // A child's base is in its parent's mirror: its checkout fetched nothing; the parent's merge fetched their commits.
    const childLog = await drover(ctx.env.config, ['logs', a]);
    assert.equal(childLog.code, 0, childLog.stderr);
    assert.match(childLog.stdout, /worktree .* at [0-9a-f]{40}/);
    assert.doesNotMatch(childLog.stdout, /fetched /);
    assert.match((await drover(ctx.env.config, ['logs', jobId])).stdout, /merged 2 subtask commit\(s\)/);
    // drover status shows the tree.
    const status = await drover(ctx.env.config, ['status', jobId]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`subtasks\\n  ${a.replaceAll('.', '\\.')}  succeeded  drover/`));
  });

  it('refuses subtasks beyond the depth limit (2), and the job still succeeds', async () => {
    const repo = makeRepo();
    const marks = tempDir('drover-chain-');
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'CHAIN level 0',
      agent: { kind: 'command', argv: ['bash', agentScript(CHAIN_AGENT)], env: { MARKS: marks } },
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    const deepest = `${jobId}.s1.s1`;
    assert.deepEqual(readdirSync(marks), [`refused-${deepest}`]);
    assert.match(
      readFileSync(join(marks, `refused-${deepest}`), 'utf8'),
      /subtasks may nest at most 2 level\(s\) deep, and this job is at depth 2/,
    );
    const files = git(repo, 'ls-tree', '-r', '--name-only', `drover/${jobId}`).split('\n');
    for (const f of ['level-0.txt', 'level-1.txt', 'level-2.txt']) assert.ok(files.includes(f), `${f} in ${files.join(' ')}`);
    const status = await drover(ctx.env.config, ['status', jobId]);
    assert.match(status.stdout, new RegExp(`subtasks\\n  ${jobId}\\.s1  succeeded .*\\n    ${jobId}\\.s1\\.s1  succeeded `));
  });

  it('a conflict between children is left in the file and fed back to the parent', async () => {
    const repo = makeRepo();
    const marks = tempDir('drover-conflict-');
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Two writers',
      agent: { kind: 'command', argv: ['bash', agentScript(CONFLICT_AGENT)], env: { MARKS: marks } },
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.match(
      readFileSync(join(marks, 'merged.txt'), 'utf8'),
      /^<<<<<<< [\s\S]*x from one[\s\S]*=======[\s\S]*y from two[\s\S]*>>>>>>> /m,
    );
    assert.equal(git(repo, 'show', `drover/${jobId}:shared.txt`), 'resolved');
  });

  it('children start from a snapshot holding what the parent wrote first, and the final commit holds it all', async () => {
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Write, then split',
      agent: { kind: 'command', argv: ['bash', agentScript(SNAPSHOT_AGENT)] },
    });
    const result = await ctx.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    const base = result.baseCommit;
    const child = `${jobId}.s1`;
    // The child's base is the snapshot: a commit on the parent's base, found in the mirror without a fetch.
    const snapshot = git(repo, 'rev-parse', `drover/${child}~1`);
    assert.notEqual(snapshot, base);
    assert.equal(git(repo, 'rev-parse', `${snapshot}~1`), base);
    assert.equal(git(repo, 'show', `${snapshot}:parent-first.txt`), 'first');
    assert.doesNotMatch((await drover(ctx.env.config, ['logs', child])).stdout, /fetched /);
    const files = git(repo, 'ls-tree', '-r', '--name-only', `drover/${jobId}`).split('\n');
    for (const f of ['parent-first.txt', 'one.txt', 'two.txt', 'parent-after.txt'])
      assert.ok(files.includes(f), `${f} in ${files.join(' ')}`);
    assert.equal(git(repo, 'show', `drover/${jobId}:one.txt`), 'one');
  });

  it('refuses a job that claims to be a subtask of a job that is not its parent', async () => {
    const jobId = `fake-subtask-${Date.now()}`;
    const input = JobInput.parse({
      id: jobId,
      repo: makeRepo(),
      prompt: 'x',
      agent: { kind: 'command', command: 'true' },
      subtaskOf: {
        parent: 'someone-else',
        depth: 1,
        host: 'nowhere',
        title: 't',
        parentPrompt: 'p',
        parentAgent: { kind: 'command', command: 'true' },
      },
    });
    await ctx.env.client.client.workflow.start(WORKFLOW_TYPE, { workflowId: jobId, taskQueue: ctx.env.config.taskQueue, args: [input] });
    const status = await waitFor('the job to end', async () => {
      const s = await ctx.env.client.status(jobId);
      return s.execution === 'RUNNING' ? undefined : s;
    });
    assert.equal(status.execution, 'FAILED');
    await assert.rejects(ctx.env.client.result(jobId), (err: Error) => {
      const cause = err.cause as (Error & { type?: string }) | undefined;
      return cause?.type === 'InvalidInput' && /subtaskOf: is set only by a parent job/.test(cause.message);
    });
  });

  it('cancelling the parent cancels both children and ends their agents', async () => {
    const marks = tempDir('drover-hang-');
    const repo = makeRepo();
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'Delegate and wait',
      agent: { kind: 'command', argv: ['bash', agentScript(HANGING_AGENT)], env: { MARKS: marks } },
      timeouts: { heartbeat: '5s' },
    });
    const pids = await waitFor('both children to start', () => {
      const files = readdirSync(marks).filter((f) => f.endsWith('.pid'));
      return files.length === 4 ? files.map((f) => Number(readFileSync(join(marks, f), 'utf8').trim())) : undefined;
    });
    assert.ok(pids.every(isAlive));
    const running = await drover(ctx.env.config, ['status', jobId]);
    assert.match(running.stdout, /phase\s+running_subtasks/);
    assert.match(running.stdout, new RegExp(`subtasks\\n  ${jobId}\\.s1  running_agent  drover/${jobId}\\.s1  one`));

    const baseRef = join(dataPaths(ctx.env.config.dataDir).mirror(repo), subtaskBaseRef(jobId));
    assert.ok(existsSync(baseRef), `the children's base is in the mirror: ${baseRef}`);

    const r = await drover(ctx.env.config, ['cancel', jobId]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('every child process to die', () => pids.every((p) => !isAlive(p)) || undefined, 10_000);
    await assert.rejects(ctx.env.client.result(jobId));
    assert.equal((await ctx.env.client.status(jobId)).execution, 'CANCELLED');
    for (const id of [`${jobId}.s1`, `${jobId}.s2`]) {
      const child = await waitFor(`${id} to close`, async () => {
        const s = await ctx.env.client.status(id);
        return s.execution === 'RUNNING' ? undefined : s;
      });
      assert.equal(child.execution, 'CANCELLED', id);
    }
    // The children's base goes with the parent's cleanup, though no child's commit was merged.
    await waitFor('the subtasks base ref to go', () => !existsSync(baseRef) || undefined);
  });
});
