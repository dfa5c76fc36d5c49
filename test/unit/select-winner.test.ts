import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobSpecFromFlags } from '../../src/cli/job-args.js';
import { attemptAgents, attemptJobs, bestOfIdProblem, isBestOf } from '../../src/shared/attempts.js';
import { JobInput, JobSpec, type Candidate, type JobResult } from '../../src/shared/schemas.js';
import { candidateOf, diffSize, pickWinner, selectedIndex } from '../../src/shared/select-winner.js';

const candidate = (over: Partial<Candidate> = {}): Candidate => ({
  jobId: 'j.1',
  agent: 'command',
  status: 'succeeded',
  checks: { passed: 1, failed: 0 },
  approved: null,
  diff: 10,
  files: 1,
  branch: 'drover/j.1',
  commit: 'a'.repeat(40),
  finished: 1,
  ...over,
});

const result = (over: Partial<JobResult> = {}): JobResult => ({
  status: 'succeeded',
  branch: 'drover/j.2',
  commit: 'b'.repeat(40),
  baseCommit: 'c'.repeat(40),
  files: [
    { path: 'a.txt', added: 3, deleted: 1 },
    { path: 'logo.png', added: null, deleted: null },
  ],
  filesTruncated: 2,
  validations: [
    { revision: 0, checks: [] },
    {
      revision: 1,
      checks: [
        { name: 'a', passed: true, exitCode: 0, durationMs: 1, outputTail: '', timedOut: false },
        { name: 'b', passed: false, exitCode: 1, durationMs: 1, outputTail: '', timedOut: false },
      ],
      critic: { approve: true, comments: '' },
    },
  ],
  revisions: 1,
  questions: [],
  attempts: 1,
  durationsMs: {},
  ...over,
});

describe('the winner rule', () => {
  it('only lets an attempt with a commit and every check passed win', () => {
    assert.equal(pickWinner([]), null);
    assert.equal(
      pickWinner([
        candidate({ status: 'failed', commit: null, diff: 1 }),
        candidate({ status: 'no_changes', commit: null, diff: 0 }),
        candidate({ checks: { passed: 2, failed: 1 }, diff: 1 }),
      ]),
      null,
    );
    assert.equal(pickWinner([candidate({ status: 'failed', diff: 1, approved: true }), candidate({ diff: 50, finished: 2 })]), 1);
    // An attempt its critic still rejected kept its commit: it can win when nothing approved can.
    const rejected = candidate({ status: 'failed', approved: false, diff: 1, failure: { type: 'CriticRejected', message: 'm' } });
    assert.equal(pickWinner([candidate({ status: 'failed', commit: null }), rejected]), 1);
    assert.equal(pickWinner([rejected, candidate({ approved: true, diff: 90, finished: 2 })]), 1);
    assert.equal(pickWinner([{ ...rejected, failure: { type: 'ValidationFailed', message: 'm' } }]), null);
  });

  it('prefers critic approval, then the smallest diff, then the earliest finish', () => {
    const approved = candidate({ approved: true, diff: 100, finished: 3 });
    const small = candidate({ approved: false, diff: 2, finished: 1 });
    const smallLate = candidate({ diff: 2, finished: 2 });
    assert.equal(pickWinner([small, approved, smallLate]), 1);
    assert.equal(pickWinner([smallLate, small]), 1);
    assert.equal(pickWinner([candidate({ diff: 9, finished: 1 }), candidate({ diff: 3, finished: 2 })]), 1);
  });

  it('counts a diff as lines added and deleted, a file without counts and each unlisted file as 1', () => {
    assert.equal(diffSize([]), 0);
    assert.equal(diffSize(result().files, 2), 4 + 1 + 2);
  });

  it('makes a candidate from the last validation round and the critic on it', () => {
    const c = candidateOf('j.2', { kind: 'codex', model: 'gpt-5' }, { result: result() }, 2);
    assert.deepEqual(c.checks, { passed: 1, failed: 1 });
    assert.equal(c.approved, true);
    assert.equal(c.diff, 7);
    assert.equal(c.files, 4);
    assert.equal(c.model, 'gpt-5');
    assert.equal(c.finished, 2);
    const failed = candidateOf(
      'j.3',
      { kind: 'command', command: 'x', env: {} },
      { status: 'failed', failure: { type: 'AgentFailed', message: 'x' } },
      1,
    );
    assert.equal(failed.status, 'failed');
    assert.equal(failed.commit, null);
    assert.equal(failed.branch, 'drover/j.3');
    assert.equal(pickWinner([failed]), null);
  });

  it("reads the select command's index: the last integer line, naming a candidate that can win", () => {
    const cs = [candidate(), candidate({ status: 'failed', commit: null }), candidate()];
    assert.deepEqual(selectedIndex(['{"thinking": 1}', '2', 'done'], cs), { index: 2 });
    assert.deepEqual(selectedIndex([' 0 '], cs), { index: 0 });
    assert.match((selectedIndex(['nothing'], cs) as { problem: string }).problem, /no index/);
    assert.match((selectedIndex(['7'], cs) as { problem: string }).problem, /not the index/);
    assert.match((selectedIndex(['-1'], cs) as { problem: string }).problem, /not the index/);
    assert.match((selectedIndex(['1'], cs) as { problem: string }).problem, /cannot win/);
  });
});

describe('attempts in the job schema', () => {
  const base = { repo: '/tmp/r', prompt: 'p', agent: { kind: 'claude-code' } };

  it('takes 1 to 8 attempts, or a list of 1 to 8 agents (kinds or full agents)', () => {
    for (const n of [1, 8]) assert.equal(JobSpec.safeParse({ ...base, attempts: n }).success, true, String(n));
    for (const n of [0, 9, 2.5, -1, '3']) assert.equal(JobSpec.safeParse({ ...base, attempts: n }).success, false, String(n));
    const parsed = JobSpec.parse({ ...base, attempts: { agents: ['codex', { kind: 'opencode', model: 'a/b' }] } });
    assert.deepEqual(parsed.attempts, { agents: [{ kind: 'codex' }, { kind: 'opencode', model: 'a/b' }] });
    for (const agents of [[], Array(9).fill('codex'), ['nope'], ['command']]) {
      assert.equal(JobSpec.safeParse({ ...base, attempts: { agents } }).success, false, JSON.stringify(agents));
    }
    assert.equal(JobSpec.safeParse({ ...base, attempts: { agents: ['codex'], extra: 1 } }).success, false);
  });

  it('takes a select step like a critic', () => {
    const parsed = JobSpec.parse({ ...base, attempts: 2, select: { command: 'pick' } });
    assert.deepEqual(parsed.select, { command: 'pick', timeout: '10m' });
    assert.equal(JobSpec.safeParse({ ...base, select: { command: '' } }).success, false);
  });

  it('makes each attempt an ordinary job: its id and agent, no attempts, select or integration', () => {
    const job = JobInput.parse({
      ...base,
      id: 'j',
      attempts: { agents: ['codex', 'opencode'] },
      select: { command: 'x' },
      integrate: { into: 'main' },
    });
    assert.equal(isBestOf(job), true);
    const jobs = attemptJobs(job);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.agent.kind]),
      [
        ['j.1', 'codex'],
        ['j.2', 'opencode'],
      ],
    );
    for (const j of jobs) {
      assert.equal(j.attempts, undefined);
      assert.equal(j.select, undefined);
      assert.equal(j.integrate, undefined);
      assert.equal(JobInput.safeParse(j).success, true);
    }
    const budgeted = attemptJobs(JobInput.parse({ ...base, id: 'b', attempts: 3, budget: { tokens: 1000, usd: 3, wallTime: '1h' } }));
    assert.deepEqual(
      budgeted.map((j) => j.budget),
      Array.from({ length: 3 }, () => ({ tokens: 333, usd: 1, wallTime: '1h', wip: false })),
      'attempts share the tokens and cost; each has the whole wall time',
    );
    const three = JobInput.parse({ ...base, id: 'k', attempts: 3 });
    assert.deepEqual(
      attemptAgents(three).map((a) => a.kind),
      ['claude-code', 'claude-code', 'claude-code'],
    );
    assert.equal(isBestOf(JobInput.parse({ ...base, id: 'k', attempts: 1 })), false);
    assert.equal(isBestOf(JobInput.parse({ ...base, id: 'k' })), false);
    assert.equal(bestOfIdProblem('x'.repeat(93)), undefined);
    assert.match(bestOfIdProblem('x'.repeat(94)) ?? '', /at most 93/);
  });

  it('reads --attempts and --agents; --agents alone names the job agent too', () => {
    assert.equal(jobSpecFromFlags({ repo: '/tmp/r', prompt: 'p', agent: 'codex', attempts: '3' }).attempts, 3);
    const spec = jobSpecFromFlags({ repo: '/tmp/r', prompt: 'p', agents: 'claude-code, codex,opencode' });
    assert.deepEqual(spec.attempts, { agents: ['claude-code', 'codex', 'opencode'] });
    assert.deepEqual(spec.agent, { kind: 'claude-code' });
    assert.throws(() => jobSpecFromFlags({ repo: '/tmp/r', prompt: 'p', agent: 'codex', attempts: '2', agents: 'codex' }), /not both/);
  });
});
