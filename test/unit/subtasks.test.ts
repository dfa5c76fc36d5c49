import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseSubtasks, prepareSubtaskFiles, takeSubtasks } from '../../src/activities/subtasks-file.js';
import { JobInput } from '../../src/shared/schemas.js';
import { prepareJob } from '../../src/client.js';
import { DroverConfig } from '../../src/config/schema.js';
import { AppError } from '../../src/shared/errors.js';
import { agentRefusal, allottedBy, budgetShare, subtaskJobs, subtaskRefusal } from '../../src/shared/subtasks.js';
import { makeRepo, tempDir } from '../support/harness.js';

const job = (extra: Record<string, unknown> = {}) =>
  JobInput.parse({
    id: 'job-1',
    repo: '/tmp/repo',
    prompt: 'Parent task',
    agent: { kind: 'command', command: 'true' },
    validate: [{ name: 'test', command: 'npm test' }],
    budget: { usd: 1 },
    ...extra,
  });

function runFiles(): { runDir: string; worktree: string } {
  const root = tempDir('drover-subtasks-unit-');
  const runDir = join(root, 'run');
  const worktree = join(root, 'wt');
  mkdirSync(join(runDir, 'ask'), { recursive: true });
  mkdirSync(join(runDir, 'out'), { recursive: true });
  mkdirSync(join(worktree, '.drover'), { recursive: true });
  return { runDir, worktree };
}

describe('the subtasks file', () => {
  it('parses title, prompt, agent and validate, and rejects anything else as the agent protocol error', () => {
    assert.deepEqual(parseSubtasks('[{"title": " a ", "prompt": "do a", "agent": "codex", "validate": false}]'), [
      { title: 'a', prompt: 'do a', agent: 'codex', validate: false },
    ]);
    for (const bad of [
      'not json',
      '[]',
      '{"title": "a"}',
      '[{"title": "a"}]',
      '[{"title": "a", "prompt": "p", "agent": "gpt"}]',
      '[{"title": "a", "prompt": "p", "x": 1}]',
    ]) {
      assert.throws(
        () => parseSubtasks(bad),
        (err: Error & { type?: string }) => err.type === 'AgentProtocolError',
        bad,
      );
    }
  });

  it('is read from the run directory, then the legacy place, consumed; a link is refused', async () => {
    const { runDir, worktree } = runFiles();
    const env = await prepareSubtaskFiles(runDir, worktree);
    assert.equal(env.DROVER_SUBTASKS_FILE, join(runDir, 'ask', 'subtasks.json'));
    assert.equal(await takeSubtasks(runDir, worktree), undefined);
    writeFileSync(join(worktree, '.drover', 'subtasks.json'), '[{"title": "legacy", "prompt": "p"}]');
    assert.deepEqual(await takeSubtasks(runDir, worktree), [{ title: 'legacy', prompt: 'p' }]);
    assert.equal(existsSync(join(worktree, '.drover', 'subtasks.json')), false);
    writeFileSync(join(runDir, 'secret'), '[{"title": "x", "prompt": "p"}]');
    symlinkSync(join(runDir, 'secret'), env.DROVER_SUBTASKS_FILE!);
    await assert.rejects(takeSubtasks(runDir, worktree), (err: Error & { type?: string }) => err.type === 'AgentProtocolError');
  });

  it('an earlier run’s request is cleared before the next run', async () => {
    const { runDir, worktree } = runFiles();
    writeFileSync(join(runDir, 'ask', 'subtasks.json'), '[{"title": "old", "prompt": "p"}]');
    await prepareSubtaskFiles(runDir, worktree);
    assert.equal(await takeSubtasks(runDir, worktree), undefined);
  });
});

describe('subtask limits', () => {
  it('refuses beyond the depth, per parent, and what the tree has left', () => {
    assert.equal(subtaskRefusal(job(), 0, 5), undefined);
    assert.match(subtaskRefusal(job(), 3, 3) ?? '', /at most 5 subtask\(s\) and this one started 3; 2 more may be started/);
    assert.match(subtaskRefusal(job({ subtasks: { perParent: 2 } }), 2, 1) ?? '', /at most 2 subtask\(s\)/);
    assert.match(subtaskRefusal(job({ subtasks: { total: 1 } }), 0, 2) ?? '', /the job tree may have at most 1 more/);
    const deep = job({
      subtaskOf: { parent: 'p', depth: 2, host: 'q@w', title: 't', parentPrompt: 'x', parentAgent: { kind: 'command', command: 'true' } },
    });
    assert.match(subtaskRefusal(deep, 0, 1) ?? '', /nest at most 2 level\(s\) deep, and this job is at depth 2/);
    assert.equal(subtaskRefusal({ ...deep, subtasks: { maxDepth: 3, perParent: 5, total: 10, askHuman: false } }, 0, 1), undefined);
  });

  it('makes each child: its id, base, checks, agent, depth, host, and a share of the tree total', () => {
    const parent = job();
    const children = subtaskJobs(
      parent,
      [
        { title: 'a', prompt: 'do a' },
        { title: 'b', prompt: 'do b', validate: false, agent: 'codex' },
        { title: 'c', prompt: 'do c' },
      ],
      { started: 1, snapshot: 'abc123', host: 'q@w', plan: { setup: [], validate: parent.validate, teardown: [], cache: [] } },
    );
    assert.deepEqual(
      children.map((c) => [c.id, c.base, c.validate.length, c.agent.kind, c.subtasks?.total, c.subtaskOf?.depth, c.subtaskOf?.host]),
      [
        ['job-1.s2', 'abc123', 1, 'command', 3, 1, 'q@w'],
        ['job-1.s3', 'abc123', 0, 'codex', 2, 1, 'q@w'],
        ['job-1.s4', 'abc123', 1, 'command', 2, 1, 'q@w'],
      ],
    );
    assert.equal(children[0]!.subtaskOf?.parentPrompt, 'Parent task');
    assert.equal(children[0]!.budget, undefined);
    for (const c of children) assert.ok(JobInput.safeParse(c).success, c.id);
  });

  it('keeps the tree total over two requests: the second gets what the first did not allot', () => {
    const parent = job({ subtasks: { total: 6 } });
    const plan = { setup: [], validate: [], teardown: [], cache: [] };
    const at = { snapshot: 's', host: 'q@w', plan };
    const first = subtaskJobs(parent, [{ title: 'a', prompt: 'a' }], { ...at, started: 0, allotted: 0 });
    const allotted = allottedBy(first);
    assert.equal(allotted, 6);
    assert.match(subtaskRefusal(parent, 1, 1, allotted) ?? '', /the job tree may have at most 0 more/);
    // Had the first request taken 2 (a child and a share of 1), the second may start 4 in all, and they get the rest.
    assert.equal(subtaskRefusal(parent, 1, 4, 2), undefined);
    assert.match(subtaskRefusal(parent, 1, 5, 2) ?? '', /; 4 more may be started/);
    const second = subtaskJobs(
      parent,
      [1, 2].map((n) => ({ title: `${n}`, prompt: 'p' })),
      { ...at, started: 1, allotted: 2 },
    );
    assert.deepEqual(
      second.map((c) => c.subtasks?.total),
      [1, 1],
    );
    assert.equal(2 + allottedBy(second), 6);
  });

  it('gives each child an equal share of the budget the parent has left', () => {
    const spent = { usd: 0.4, tokens: 1_000, turns: 4, wallTimeMs: 60_000 };
    const share = budgetShare({ usd: 1, tokens: 5_000, turns: 10, wallTime: '10m', wip: true }, spent, 2);
    assert.deepEqual(share, { wip: true, usd: 0.3, tokens: 2_000, turns: 3, wallTime: '540s' });
    assert.equal(budgetShare(undefined, spent, 2), undefined);
    const parent = job();
    const [child] = subtaskJobs(parent, [{ title: 'a', prompt: 'a' }], {
      started: 0,
      snapshot: 's',
      host: 'q@w',
      plan: { setup: [], validate: [], teardown: [], cache: [] },
      budget: budgetShare(parent.budget, { ...spent, usd: 0.5 }, 1),
    });
    assert.equal(child!.budget?.usd, 0.5);
    assert.ok(JobInput.safeParse(child).success);
  });

  it('refuses a request for the command agent unless the parent is one', () => {
    assert.match(agentRefusal(job({ agent: { kind: 'codex' } }), [{ agent: 'command' }]) ?? '', /cannot ask for the "command" agent/);
    assert.equal(agentRefusal(job(), [{ agent: 'command' }]), undefined);
    assert.equal(agentRefusal(job({ agent: { kind: 'codex' } }), [{}, { agent: 'codex' }]), undefined);
  });

  it('refuses subtaskOf in a job the client submits, with one line', async () => {
    const subtaskOf = {
      parent: 'p',
      depth: 1,
      host: 'q',
      title: 't',
      parentPrompt: 'x',
      parentAgent: { kind: 'command', command: 'true' },
    };
    const spec = { repo: makeRepo(), prompt: 'x', agent: { kind: 'command', command: 'true' }, subtaskOf } as never;
    await assert.rejects(
      prepareJob(spec, DroverConfig.parse({})),
      (err: unknown) => err instanceof AppError && err.type === 'InvalidInput' && /^invalid job: subtaskOf: /.test(err.message),
    );
  });
});
