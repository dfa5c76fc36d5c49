/**
 * The contract can fail: broken runtimes run through the same cases fail exactly the cases for their defect,
 * and pass a case that does not touch it (so it is the defect that fails, not the harness).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { createHostRuntime } from '../../src/runtimes/host-runtime.js';
import { lineSplitter } from '../../src/runtimes/line-splitter.js';
import type { ExecEnd, ExecResult, ExecSpec, Runtime } from '../../src/runtimes/runtime.js';
import { watchdog } from '../../src/runtimes/watchdog.js';
import { caseById } from './runtime.contract.js';
import { hostSubject } from './runtime-subjects.js';

const host = createHostRuntime();
/** The host runtime with its specs (or its killTagged) changed on the way in. */
const wrapped = (change: (spec: ExecSpec) => ExecSpec, killTagged = host.killTagged): Runtime => ({
  kind: 'host',
  exec: (spec) => host.exec(change(spec)),
  killTagged,
});

/**
 * The classic bug: no process group, so stopping a run signals its direct child only and whatever that
 * started lives on; otherwise a fair runtime (env, lines, watchdog).
 */
const childOnly: Runtime = { kind: 'host', exec: execChildOnly, killTagged: host.killTagged };

function execChildOnly(spec: ExecSpec): Promise<ExecResult> {
  const started = Date.now();
  const [cmd, ...args] = spec.argv;
  const child = spawn(cmd!, args, { cwd: spec.cwd, env: { ...spec.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve) => {
    let end: ExecEnd = 'exit';
    const stop = (why: ExecEnd) => {
      if (end !== 'exit') return;
      end = why;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 500).unref();
    };
    const dog = watchdog(spec, stop);
    const splitters = (['stdout', 'stderr'] as const).map((stream) => {
      const s = lineSplitter((line) => spec.onLine?.(stream, line));
      child[stream].on('data', (chunk: Buffer) => {
        dog.touch();
        s.push(chunk);
      });
      return s;
    });
    child.stdin.on('error', () => undefined);
    if (spec.keepStdinOpen) child.stdin.write(spec.stdin ?? '');
    else child.stdin.end(spec.stdin ?? '');
    spec.onStart?.({ write: (t) => child.stdin.write(t), closeStdin: () => child.stdin.end(), finish: () => stop('finished') });
    child.on('exit', (exitCode, signal) => {
      dog.dispose();
      // Orphans hold the pipes: give the output a moment, then let go.
      setTimeout(() => {
        for (const s of splitters) s.end();
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ exitCode, signal, end, durationMs: Date.now() - started });
      }, 200);
    });
  });
}

interface Mutant {
  name: string;
  runtime: Runtime;
  /** Case id and the assertion it must fail with. */
  fails: [string, RegExp][];
  passes: string[];
}

const mutants: Mutant[] = [
  {
    name: 'merges stderr into stdout',
    runtime: wrapped((spec) => ({ ...spec, onLine: (_stream, line) => spec.onLine?.('stdout', line) })),
    fails: [['output', /stdout lines/]],
    passes: ['env'],
  },
  {
    name: 'passes the worker environment on',
    runtime: wrapped((spec) => ({ ...spec, env: { ...process.env, ...spec.env } as Record<string, string> })),
    fails: [['env', /variables that were not given/]],
    passes: ['output'],
  },
  {
    name: 'ignores the idle timeout',
    runtime: wrapped(({ idleTimeoutMs: _ignored, ...spec }) => spec),
    fails: [['idle', /did not end within/]],
    passes: ['timeout'],
  },
  {
    name: 'ignores the hard timeout',
    runtime: wrapped(({ hardTimeoutMs: _ignored, ...spec }) => spec),
    fails: [['timeout', /did not end within/]],
    passes: ['idle'],
  },
  {
    name: 'kills only the direct child',
    runtime: childOnly,
    fails: [
      ['cancel', /left running after a cancel/],
      ['cleanup', /left running after a normal exit/],
    ],
    passes: ['env', 'output'],
  },
  {
    name: 'killTagged that kills nothing',
    runtime: wrapped(
      (spec) => spec,
      async () => 0,
    ),
    fails: [['killTagged', /killTagged reported 0 processes/]],
    passes: ['stdin'],
  },
];

describe('the runtime contract catches broken runtimes', () => {
  for (const m of mutants) {
    it(`${m.name}: fails ${m.fails.map(([id]) => id).join(', ')}; passes ${m.passes.join(', ')}`, { timeout: 60_000 }, async () => {
      const subject = hostSubject({ name: m.name, runtime: m.runtime });
      const rt = await subject.start();
      try {
        for (const [id, because] of m.fails) {
          await assert.rejects(caseById(id).check(rt, subject.traits), (err: Error) => {
            assert.ok(err instanceof assert.AssertionError, `case ${id} failed with an AssertionError, not ${err}`);
            assert.match(err.message, because, `case ${id} failed for the defect`);
            return true;
          });
        }
        for (const id of m.passes) await caseById(id).check(rt, subject.traits);
      } finally {
        await rt.stop();
      }
    });
  }
});
