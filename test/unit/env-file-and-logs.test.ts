import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderLogLine } from '../../src/cli/render-log.js';
import { readEnvFiles } from '../../src/config/env-file.js';
import { tempDir } from '../support/harness.js';

describe('env files', () => {
  it('reads KEY=value lines with comments, export and quotes; later files win', () => {
    const dir = tempDir();
    const a = join(dir, 'a.env');
    const b = join(dir, 'b.env');
    writeFileSync(a, '# credentials\nexport ANTHROPIC_API_KEY="sk-1"\nBASE=http://x # note\n\nEMPTY=\n');
    writeFileSync(b, "ANTHROPIC_API_KEY='sk-2'\n");
    assert.deepEqual(readEnvFiles([a, b]), { ANTHROPIC_API_KEY: 'sk-2', BASE: 'http://x', EMPTY: '' });
  });

  it('says which file and line is wrong', () => {
    const f = join(tempDir(), 'bad.env');
    writeFileSync(f, 'OK=1\nnot a pair\n');
    assert.throws(() => readEnvFiles([f]), /bad\.env, line 2: expected KEY=value/);
    assert.throws(() => readEnvFiles([join(tempDir(), 'missing.env')]), /cannot be read: ENOENT/);
  });
});

describe('drover logs rendering', () => {
  it('shows the events read from an agent line, marked by kind, and hides JSON chatter with none', () => {
    const ts = '2026-11-23T10:11:12.000Z';
    const withEvents = JSON.stringify({
      ts,
      source: 'agent',
      text: '{"type":"assistant"}',
      events: [
        { type: 'file_change', text: 'Write a.txt' },
        { type: 'question', text: 'Which?' },
      ],
    });
    assert.deepEqual(renderLogLine(withEvents), ['10:11:12 agent    ✎ Write a.txt', '10:11:12 agent    ? Which?']);
    assert.deepEqual(renderLogLine(JSON.stringify({ ts, source: 'agent', text: '{"type":"step_start"}', events: [] })), []);
    assert.deepEqual(renderLogLine(JSON.stringify({ ts, source: 'validate', check: 'tests', text: 'tests: passed' })), [
      '10:11:12 validate:tests   tests: passed',
    ]);
    assert.deepEqual(renderLogLine('not json'), ['not json']);
  });
});
