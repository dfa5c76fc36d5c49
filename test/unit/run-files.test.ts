import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readNoFollow, writeNoFollow } from '../../src/activities/no-follow.js';
import { makeRunDir, takeQuestion, writeRunFiles } from '../../src/activities/run-files.js';
import { tempDir } from '../support/harness.js';

const input = { worktree: '', prompt: 'p', revision: 0, questions: [{ question: 'q?', answer: 'a!' }], feedback: 'f' };

describe('run files', () => {
  it('writes prompt, answer and feedback into the run directory and points DROVER_* at them', async () => {
    const runDir = join(tempDir(), 'run');
    const worktree = tempDir();
    makeRunDir(runDir, undefined);
    const env = await writeRunFiles(runDir, { ...input, worktree }, 'the prompt');
    assert.equal(readFileSync(env.DROVER_PROMPT_FILE!, 'utf8'), 'the prompt');
    assert.equal(readFileSync(env.DROVER_ANSWER_FILE!, 'utf8'), 'a!');
    assert.equal(readFileSync(env.DROVER_FEEDBACK_FILE!, 'utf8'), 'f');
    assert.equal(env.DROVER_QUESTION_FILE, join(runDir, 'ask', 'question.json'));
    assert.deepEqual(readdirSync(worktree), [], 'nothing in the worktree');
  });

  it('reads a question from the run directory, else from .drover/question.json, and consumes it', async () => {
    const runDir = join(tempDir(), 'run');
    const worktree = tempDir();
    makeRunDir(runDir, undefined);
    writeFileSync(join(runDir, 'ask', 'question.json'), '{"question": "new place?"}');
    assert.equal(await takeQuestion(runDir, worktree), 'new place?');
    assert.equal(existsSync(join(runDir, 'ask', 'question.json')), false);
    mkdirSync(join(worktree, '.drover'));
    writeFileSync(join(worktree, '.drover', 'question.json'), '{"question": "old place?"}');
    assert.equal(await takeQuestion(runDir, worktree), 'old place?');
    assert.equal(await takeQuestion(runDir, worktree), undefined);
  });

  it('never follows a link: a question file that is a link, a FIFO or too big is a protocol error; a .drover link is ignored', async () => {
    const runDir = join(tempDir(), 'run');
    const worktree = tempDir();
    makeRunDir(runDir, undefined);
    const secret = join(tempDir(), 'secret.json');
    writeFileSync(secret, '{"question": "host secret"}');
    symlinkSync(secret, join(runDir, 'ask', 'question.json'));
    await assert.rejects(takeQuestion(runDir, worktree), { type: 'AgentProtocolError', message: /symbolic link/ });
    await writeRunFiles(runDir, { ...input, worktree }, 'x'); // clears it
    execFileSync('mkfifo', [join(runDir, 'ask', 'question.json')]);
    await assert.rejects(takeQuestion(runDir, worktree), { type: 'AgentProtocolError', message: /not a regular file/ });
    await writeRunFiles(runDir, { ...input, worktree }, 'x');
    writeFileSync(join(runDir, 'ask', 'question.json'), 'x'.repeat(70_000));
    await assert.rejects(takeQuestion(runDir, worktree), { type: 'AgentProtocolError', message: /larger than/ });
    await writeRunFiles(runDir, { ...input, worktree }, 'x');
    const hostDir = tempDir();
    writeFileSync(join(hostDir, 'question.json'), '{"question": "host"}');
    symlinkSync(hostDir, join(worktree, '.drover'));
    assert.equal(await takeQuestion(runDir, worktree), undefined, 'a repository that ships .drover as a link asks nothing');
    assert.ok(existsSync(join(hostDir, 'question.json')), 'and nothing is removed through it');
  });

  it('refuses to write through a link planted for a run file or for the run directory', async () => {
    const dir = tempDir();
    const target = join(tempDir(), 'target');
    writeFileSync(target, 'host file');
    symlinkSync(target, join(dir, 'prompt.md'));
    await assert.rejects(writeNoFollow(dir, 'prompt.md', 'x'), /symbolic link/);
    const linkedDir = join(tempDir(), 'run');
    symlinkSync(dir, linkedDir);
    await assert.rejects(writeNoFollow(linkedDir, 'other.md', 'x'), /not a directory/);
    await assert.rejects(readNoFollow(linkedDir, 'prompt.md', 10), /not a directory/);
    assert.equal(readFileSync(target, 'utf8'), 'host file');
    assert.equal(existsSync(join(dir, 'other.md')), false);
  });
});

describe('worktree paths from the workflow', () => {
  it('are accepted only where this worker makes worktrees', async () => {
    const { checkWorktreePath } = await import('../../src/activities/workspace.js');
    const { dataPaths } = await import('../../src/config/paths.js');
    const paths = dataPaths('/data');
    const ok = [
      ['j1', '/data/worktrees/j1'],
      ['j1', '/data/docker-slots/0123456789ab/j1'],
    ];
    for (const [job, path] of ok) checkWorktreePath({ paths }, job!, path!);
    const bad = [
      ['j1', '/root'],
      ['j1', '/data/worktrees/j2'],
      ['j1', '/data/mirrors/j1'],
      ['../x', '/data/worktrees/../x'],
      ['j1', '/data/docker-slots/../j1'],
      ['j1', '/data/docker-slots/not-a-slot/j1'],
      ['.home', '/data/docker-slots/0123456789ab/.home'],
    ];
    for (const [job, path] of bad)
      assert.throws(() => checkWorktreePath({ paths }, job!, path!), { type: 'InvalidInput' }, `${job} ${path}`);
  });
});
