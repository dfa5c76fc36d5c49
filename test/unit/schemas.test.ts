import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationMs } from '../../src/shared/duration.js';
import { branchFor, gitRefProblem, hostQueueFor, jobIdProblem, repoSlug } from '../../src/shared/ids.js';
import { JobSpec } from '../../src/shared/schemas.js';

describe('job ids and refs', () => {
  it('accepts ordinary refs and shas', () => {
    for (const ref of ['HEAD', 'main', 'feature/x', 'v1.2.3', 'a1b2c3d4e5f6', 'release-2024.10'])
      assert.equal(gitRefProblem(ref), undefined, ref);
  });
  it('rejects refs git would read as options or that escape', () => {
    for (const ref of [
      '--upload-pack=x',
      '-x',
      '../x',
      'a..b',
      'a b',
      'x~1',
      'x^',
      'a:b',
      '/x',
      'x/',
      'a//b',
      '.hidden',
      'x.lock',
      'x@{1}',
      'x\n',
    ]) {
      assert.notEqual(gitRefProblem(ref), undefined, ref);
    }
  });
  it('keeps job ids safe as workflow ids and branch names', () => {
    assert.equal(jobIdProblem('job-20260101-abcd'), undefined);
    for (const id of ['', '../x', '-x', 'a..b', 'x.lock', 'a/b', 'x'.repeat(101), 'sp ace'])
      assert.notEqual(jobIdProblem(id), undefined, id);
    assert.equal(branchFor('j1'), 'drover/j1');
    assert.equal(hostQueueFor('drover', 'box'), 'drover@box');
  });
  it('makes short repo slugs', () => {
    assert.equal(repoSlug('https://github.com/acme/widgets.git'), 'acme-widgets');
    assert.equal(repoSlug('git@github.com:acme/widgets.git'), 'acme-widgets');
    assert.equal(repoSlug('/home/me/src/app/'), 'src-app');
  });
  it('parses durations', () => {
    assert.equal(durationMs('1500ms'), 1500);
    assert.equal(durationMs('90s'), 90_000);
    assert.equal(durationMs('5m'), 300_000);
    assert.equal(durationMs('24h'), 86_400_000);
    assert.throws(() => durationMs('soon'), /not a duration/);
  });
});

describe('JobSpec', () => {
  const base = { repo: '/r', prompt: 'do it', agent: { kind: 'command', command: 'true' } } as const;
  it('fills defaults', () => {
    const job = JobSpec.parse(base);
    assert.equal(job.base, 'HEAD');
    assert.equal(job.maxRevisions, 2);
    assert.deepEqual(job.validate, []);
    assert.equal(job.timeouts.humanAnswer, '24h');
    assert.deepEqual(job.agent, { kind: 'command', command: 'true', env: {} });
  });
  it('rejects what the issue lists', () => {
    const bad = [
      { ...base, prompt: '  ' },
      { ...base, base: '--upload-pack=x' },
      { ...base, repo: '-oops' },
      { ...base, agent: { kind: 'bogus' } },
      { ...base, agent: { kind: 'command' } },
      { ...base, agent: { kind: 'command', command: 'a', argv: ['b'] } },
      { ...base, agent: { kind: 'command', command: 'a', env: { 'BAD-NAME': 'x' } } },
      { ...base, validate: [{ name: 'x' }] },
      { ...base, timeouts: { agentIdle: 'forever' } },
      { ...base, extra: 1 },
      { ...base, maxRevisions: 11 },
    ];
    for (const spec of bad) assert.equal(JobSpec.safeParse(spec).success, false, JSON.stringify(spec));
  });
});
