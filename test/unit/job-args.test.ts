import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jobSpecFromFlags } from '../../src/cli/job-args.js';
import { fullPrompt } from '../../src/activities/agent.js';
import { parseVerdict } from '../../src/activities/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'drover-args-'));

describe('submit flags and job files', () => {
  it('builds a spec from flags', () => {
    const spec = jobSpecFromFlags({
      repo: '/r',
      prompt: 'p',
      agent: 'command',
      agentCommand: 'run-it',
      validate: ['npm test', 'npm run lint'],
      env: ['A=1', 'B=x=y'],
    });
    assert.deepEqual(spec.agent, { kind: 'command', command: 'run-it', env: { A: '1', B: 'x=y' } });
    assert.deepEqual(spec.validate, [
      { name: 'npm test', command: 'npm test' },
      { name: 'npm run lint', command: 'npm run lint' },
    ]);
  });
  it('reads a job file, and flags override it', () => {
    const f = join(dir, 'job.yaml');
    writeFileSync(f, 'repo: /from-file\nprompt: from file\nagent: {kind: command, command: a}\nvalidate: ["make test"]\n');
    const spec = jobSpecFromFlags({ file: f, prompt: 'from flag' });
    assert.equal(spec.repo, '/from-file');
    assert.equal(spec.prompt, 'from flag');
    assert.deepEqual(spec.validate, [{ name: 'make test', command: 'make test' }]);
  });
  it('rejects unknown agents, bad --env and conflicting prompts with clear messages', () => {
    assert.throws(() => jobSpecFromFlags({ repo: '/r', prompt: 'p', agent: 'bogus' }), /unknown agent kind "bogus"/);
    assert.throws(() => jobSpecFromFlags({ repo: '/r', prompt: 'p', agent: 'command', env: ['NOEQUALS'] }), /--env takes KEY=VALUE/);
    assert.throws(() => jobSpecFromFlags({ repo: '/r', prompt: 'p', promptFile: '/x', agent: 'command' }), /not both/);
    assert.throws(() => jobSpecFromFlags({ repo: '/r', prompt: 'p' }), /agent: required/);
  });
});

describe('agent prompts and critic verdicts', () => {
  it('continues the prompt with questions, answers and feedback', () => {
    const text = fullPrompt('Do X', [{ question: 'Which?', answer: 'That one' }], 'tests failed');
    assert.match(
      text,
      /^Do X\n\n## Your questions and the answers\n\nQ: Which\?\nA: That one\n\n## Feedback on your previous attempt\n\ntests failed\n$/,
    );
  });
  it('takes the last JSON verdict line from the critic', () => {
    assert.deepEqual(parseVerdict(['thinking', '{"approve": false, "comments": "no"}', 'noise', '{"approve": true}']), {
      approve: true,
      comments: '',
    });
    assert.throws(() => parseVerdict(['looks good to me']), /critic printed no/);
    // A secret the critic escaped in JSON is redacted once parsed, before the comments are cut.
    const redact = (t: string) => t.split('sk-secret-123').join('[redacted:K]');
    const escaped = `{"approve": false, "comments": "${'x'.repeat(3_990)}\\u0073k-secret-123"}`;
    assert.equal(parseVerdict([escaped], redact).comments, `${'x'.repeat(3_990)}[redacted:`);
  });
});
