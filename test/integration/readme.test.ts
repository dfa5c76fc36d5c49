import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, REPO_ROOT, run, tempDir } from '../support/harness.js';

/** The two quick-start commands: the first code block after "## Quick start", comments stripped. */
function quickStart(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split('## Quick start')[1] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

describe('the README quick start', () => {
  it('has two commands, and CI runs the second', () => {
    const commands = quickStart();
    assert.equal(commands.length, 2, commands.join(' | '));
    const ci = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
    assert.match(ci, new RegExp(`^exec ${commands[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  it('runs Drover’s main job with its first command on a fresh clone', async () => {
    const [demo] = quickStart();
    const clone = join(tempDir('drover-clone-'), 'drover');
    git(REPO_ROOT, 'clone', '-q', REPO_ROOT, clone);
    const dataDir = tempDir('drover-readme-data-');
    const r = await run('bash', ['-c', demo!], { cwd: clone, env: { DROVER_DATA_DIR: dataDir }, timeoutMs: 15 * 60_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^status\s+succeeded$/m);
    assert.match(r.stderr, /ui: http:\/\/localhost:8233\/namespaces\/default\/workflows\/job-/);
    const repo = /of (\S+):\n/.exec(r.stdout)?.[1];
    assert.ok(repo, r.stdout);
    const branch = /^branch\s+(drover\/\S+)$/m.exec(r.stdout)?.[1];
    assert.equal(git(repo, 'show', `${branch}:greet.js`).includes('`Hello, $' + '{name}!`'), true);
    assert.equal(git(repo, 'status', '--porcelain'), '');
  });
});
