import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHostRuntime } from '../../src/runtimes/host-runtime.js';
import { lineSplitter } from '../../src/runtimes/line-splitter.js';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, tempDir } from '../support/harness.js';

const rt = createHostRuntime();
// HOME points nowhere so bash (which sources ~/.bashrc when its stdin is a socket) prints nothing of its own.
const base = { cwd: '/tmp', env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' } };

describe('host runtime', () => {
  it('runs a process, feeds stdin, splits stdout and stderr into lines and returns the exit code', async () => {
    const lines: string[] = [];
    const r = await rt.exec({
      ...base,
      argv: ['bash', '-c', 'read x; echo "got $x"; echo oops >&2; exit 3'],
      stdin: 'hi\n',
      onLine: (s, l) => lines.push(`${s}:${l}`),
    });
    assert.equal(r.exitCode, 3);
    assert.equal(r.end, 'exit');
    assert.deepEqual(lines.sort(), ['stderr:oops', 'stdout:got hi']);
  });
  it('holds a conversation over stdin, sets PWD to the cwd, and stops a process on finish()', async () => {
    const lines: string[] = [];
    let io: import('../../src/runtimes/runtime.js').ExecIO | undefined;
    const r = await rt.exec({
      ...base,
      env: { ...base.env, PWD: '/somewhere/else' },
      argv: ['bash', '-c', 'echo "pwd=$PWD"; while read x; do echo "echo:$x"; done; echo "stdin closed"; sleep 60'],
      stdin: 'one\n',
      keepStdinOpen: true,
      onStart: (handle) => (io = handle),
      onLine: (_s, l) => {
        lines.push(l);
        if (l === 'echo:one') io?.write('two\n');
        if (l === 'echo:two') io?.closeStdin();
        if (l === 'stdin closed') io?.finish();
      },
    });
    assert.equal(r.end, 'finished');
    assert.deepEqual(lines, ['pwd=/tmp', 'echo:one', 'echo:two', 'stdin closed']);
  });
  it('kills a silent process with the idle watchdog, children included', async () => {
    let child = 0;
    const r = await rt.exec({
      ...base,
      argv: ['bash', '-c', 'sleep 60 & echo $!; wait'],
      idleTimeoutMs: 300,
      onLine: (_s, l) => (child = Number(l)),
    });
    assert.equal(r.end, 'idle');
    assert.ok(r.durationMs < 5_000);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(isAlive(child), false, 'the child in the process group is gone');
  });
  it('enforces the hard timeout even when the process keeps printing', async () => {
    const r = await rt.exec({
      ...base,
      argv: ['bash', '-c', 'while true; do echo tick; sleep 0.05; done'],
      idleTimeoutMs: 1_000,
      hardTimeoutMs: 400,
    });
    assert.equal(r.end, 'timeout');
  });
  it('stops on abort and reports cancelled', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await rt.exec({ ...base, argv: ['sleep', '30'], signal: ac.signal });
    assert.equal(r.end, 'cancelled');
    assert.ok(r.durationMs < 3_000);
  });
  it('returns even when a grandchild keeps the output pipes open', async () => {
    const r = await rt.exec({ ...base, argv: ['bash', '-c', '(setsid sleep 30 &) ; echo done'] });
    assert.equal(r.exitCode, 0);
    assert.ok(r.durationMs < 3_000);
  });
  it('finds tagged leftovers, even outside the process group, and stops them (TERM, then KILL)', async () => {
    const p = rt.exec({ ...base, argv: ['sleep', '30'], tag: 'unit-test-tag' });
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(await rt.killTagged('unit-test-tag'), 1);
    assert.equal((await p).signal, 'SIGTERM');

    // This one ignores SIGTERM and left the agent's group with setsid.
    const stubborn = rt.exec({
      ...base,
      argv: ['bash', '-c', 'setsid bash -c \'trap "" TERM; echo $$; sleep 30\' & wait'],
      tag: 'unit-test-stubborn',
      onLine: (_s, l) => (pid = Number(l)),
    });
    let pid = 0;
    await new Promise((res) => setTimeout(res, 300));
    assert.ok(pid > 0 && isAlive(pid));
    assert.ok((await rt.killTagged('unit-test-stubborn')) >= 2);
    assert.equal(isAlive(pid), false);
    await stubborn;
  });
});

describe('line splitter', () => {
  it('joins chunks, strips CR and flushes the last partial line', () => {
    const out: string[] = [];
    const s = lineSplitter((l) => out.push(l));
    s.push('a\r\nb');
    s.push('c\nd');
    s.end();
    assert.deepEqual(out, ['a', 'bc', 'd']);
  });
});

describe('tagged processes', () => {
  it('finds and kills a tagged process whose name looks like a zombie state ("a) Z")', async () => {
    const { copyFileSync } = await import('node:fs');
    const { spawn } = await import('node:child_process');
    const { killTaggedProcesses, taggedPids } = await import('../../src/runtimes/process-tags.js');
    const bin = join(tempDir(), 'a) Z');
    copyFileSync('/bin/sleep', bin);
    chmodSync(bin, 0o755);
    const tag = `t-${process.pid}-${Date.now()}`;
    const child = spawn(bin, ['30'], { env: { DROVER_PROCESS_TAG: tag }, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await taggedPids('DROVER_PROCESS_TAG', tag), [child.pid]);
    assert.equal(await killTaggedProcesses('DROVER_PROCESS_TAG', tag, 200), 1);
    assert.deepEqual(await taggedPids('DROVER_PROCESS_TAG', tag), []);
  });
});
