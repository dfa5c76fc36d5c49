/**
 * The contract every Runtime keeps. The cases are data (`runtimeCases`) so the self-test can run the very same
 * checks against deliberately broken runtimes and see them fail; `runtimeContract` only registers them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExecSpec, Runtime } from '../../src/runtimes/runtime.js';
import { bounded, expectNoLeftovers, expectRunning, nap, newMarker, run, sh } from './runtime-contract-kit.js';

export { CONTRACT_MARK } from './runtime-contract-kit.js';

/** What differs between runtimes by design; a subject must state each, so no case is skipped by accident. */
export interface RuntimeTraits {
  /** Variables the runtime itself adds to every process's environment (the host's PWD, a container's HOSTNAME). */
  ambientEnv: readonly string[];
  /** 'by-tag': killTagged stops exactly the tag's processes and counts them; 'all': it empties the runtime (one job's container) and counts nothing. */
  killTagged: 'by-tag' | 'all';
  /** A process allocating past limitMb fails the exec with AgentResourceLimit; false: the runtime enforces no memory limit. */
  memory: { limitMb: number } | false;
}

/** A started runtime plus what the cases need to probe it. */
export interface RuntimeUnderTest {
  runtime: Runtime;
  /** Variables every exec needs there (PATH, HOME). */
  env: Readonly<Record<string, string>>;
  /** A fresh directory the runtime's processes see at this (canonical) path; removed by stop. */
  makeDir(): Promise<string>;
  /**
   * Command lines of live processes a run may have left: those holding `marker`. A runtime whose runs are
   * confined to one user reports every process of that user, marked or not.
   */
  leftovers(marker: string): Promise<string[]>;
  /** Removes what start made, leftovers of failed cases included. */
  stop(): Promise<void>;
}

export interface RuntimeSubject {
  name: string;
  traits: RuntimeTraits;
  /** Why the subject does not run here: an explicit opt-out only, never a missing engine. */
  skip?: string;
  start(): Promise<RuntimeUnderTest>;
}

export interface ContractCase {
  id: string;
  name: string;
  /** Why the case does not apply to a runtime with these traits; undefined when it does. */
  notFor?(traits: RuntimeTraits): string | undefined;
  /** Throws an AssertionError when the runtime breaks the contract; may return a note for the test output. */
  check(rt: RuntimeUnderTest, traits: RuntimeTraits): Promise<string | undefined>;
}

const envCase: ContractCase = {
  id: 'env',
  name: 'exec: the process sees exactly the env given (no worker variable) and runs in cwd',
  async check(rt, traits) {
    const cwd = await rt.makeDir();
    const env = { ...rt.env, DROVER_CONTRACT_VALUE: 'a b=c ü' };
    // Something in the worker's environment that a leaky runtime would pass on.
    process.env.DROVER_CONTRACT_WORKER_ONLY = 'leaked';
    const printed = await run(rt, { argv: ['env'], cwd, env }).finally(() => delete process.env.DROVER_CONTRACT_WORKER_ONLY);
    assert.equal(printed.result.exitCode, 0);
    const seen = new Map(printed.out.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const [name, value] of Object.entries(env)) assert.equal(seen.get(name), value, `${name} as given`);
    const extra = [...seen.keys()].filter((name) => !(name in env) && !traits.ambientEnv.includes(name));
    assert.deepEqual(extra, [], 'variables that were not given');
    const pwd = await run(rt, { argv: ['pwd', '-P'], cwd, env });
    assert.deepEqual(pwd.out, [cwd], 'runs in cwd');
    return undefined;
  },
};

const outputCase: ContractCase = {
  id: 'output',
  name: 'output: stdout and stderr kept apart, split into lines, CRLF stripped, partial last lines delivered, exit code kept',
  async check(rt) {
    const m = newMarker();
    const script = [
      "printf 'out1\\nout2\\r\\nspl'; sleep 0.1; printf 'it\\n'",
      'for i in 1 2 3; do echo o$i; echo e$i >&2; done',
      "printf 'err-last' >&2; printf 'out-last'; exit 7",
    ].join('\n');
    const r = await run(rt, { argv: sh(script, m) });
    assert.deepEqual(r.out, ['out1', 'out2', 'split', 'o1', 'o2', 'o3', 'out-last'], 'stdout lines');
    assert.deepEqual(r.err, ['e1', 'e2', 'e3', 'err-last'], 'stderr lines');
    assert.equal(r.result.exitCode, 7);
    assert.equal(r.result.end, 'exit');
    return undefined;
  },
};

const idleCase: ContractCase = {
  id: 'idle',
  name: 'idle watchdog: a silent process ends as idle; one that keeps printing is not killed',
  async check(rt) {
    const m = newMarker();
    const silent = await run(rt, { argv: sh(`echo start; ${nap(m, 1)}`, m), idleTimeoutMs: 1_000, within: 10_000 });
    assert.equal(silent.result.end, 'idle');
    assert.ok(silent.result.durationMs >= 950 && silent.result.durationMs < 6_000, `idle after ${silent.result.durationMs} ms`);
    await expectNoLeftovers(rt, m, 'an idle end');
    // Three times the idle limit in all, a line every 0.15 s: a margin of six for a loaded machine's stream delays.
    const ticks = 'for i in $(seq 1 20); do echo tick; sleep 0.15; done';
    const chatty = await run(rt, { argv: sh(ticks, m), idleTimeoutMs: 1_000 });
    assert.equal(chatty.result.end, 'exit', 'a printing process runs to its end');
    assert.equal(chatty.result.exitCode, 0);
    assert.equal(chatty.out.length, 20);
    return undefined;
  },
};

const timeoutCase: ContractCase = {
  id: 'timeout',
  name: 'limits: the hard timeout ends a process that keeps printing as timeout',
  async check(rt) {
    const m = newMarker();
    const r = await run(rt, {
      argv: sh('while :; do echo tick; sleep 0.05; done', m),
      idleTimeoutMs: 3_000,
      hardTimeoutMs: 500,
      within: 6_000,
    });
    assert.equal(r.result.end, 'timeout');
    assert.ok(r.result.durationMs >= 450 && r.result.durationMs < 5_000, `timeout after ${r.result.durationMs} ms`);
    await expectNoLeftovers(rt, m, 'a timeout');
    return undefined;
  },
};

const cancelCase: ContractCase = {
  id: 'cancel',
  name: 'cancel: an abort kills the whole tree within 5 s, children and TERM-ignoring grandchildren included',
  async check(rt) {
    const m = newMarker();
    const script = [
      `${nap(m, 1)} &`,
      `${nap(m, 2)} &`,
      `sh -c 'trap "" TERM; ${nap(m, 3)}; :' &`,
      'trap "" TERM',
      'echo ready',
      'wait',
    ].join('\n');
    const ac = new AbortController();
    const running = run(rt, { argv: sh(script, m), signal: ac.signal, within: 10_000 });
    await expectRunning(rt, m, [1, 2, 3]);
    const aborted = Date.now();
    ac.abort();
    const r = await running;
    const killMs = Date.now() - aborted;
    assert.equal(r.result.end, 'cancelled');
    assert.ok(killMs < 5_000, `the run ended ${killMs} ms after the abort`);
    await expectNoLeftovers(rt, m, 'a cancel');
    return `cancel: the tree was gone ${killMs} ms after the abort`;
  },
};

const cleanupCase: ContractCase = {
  id: 'cleanup',
  name: 'cleanup: nothing a run started is left once it ends (exit, idle)',
  async check(rt) {
    const m = newMarker();
    const exited = await run(rt, { argv: sh(`${nap(m, 1)} & sh -c '${nap(m, 2)}; :' & echo started`, m) });
    assert.equal(exited.result.exitCode, 0);
    await expectNoLeftovers(rt, m, 'a normal exit');
    const idle = await run(rt, { argv: sh(`${nap(m, 3)} & echo started; wait`, m), idleTimeoutMs: 300, within: 8_000 });
    assert.equal(idle.result.end, 'idle');
    await expectNoLeftovers(rt, m, 'an idle end');
    return undefined;
  },
};

const killTaggedCase: ContractCase = {
  id: 'killTagged',
  name: "killTagged: stops a run's processes, even those that left its process group and ignore TERM",
  async check(rt, traits) {
    const m = newMarker();
    const script = `setsid sh -c 'trap "" TERM; ${nap(m, 1)}; :' & ${nap(m, 2)} & echo ready; wait`;
    const tagged = run(rt, { argv: sh(script, m), tag: `contract-${m}`, within: 15_000 });
    await expectRunning(rt, m, [1, 2]);
    const other = traits.killTagged === 'by-tag' ? await bystander(rt) : undefined;
    const killed = await bounded(rt.runtime.killTagged(`contract-${m}`), 10_000, 'killTagged');
    if (traits.killTagged === 'by-tag') assert.ok(killed >= 3, `killTagged reported ${killed} processes, the run had at least 3`);
    await tagged;
    await expectNoLeftovers(rt, m, 'killTagged');
    if (other) {
      assert.equal((await rt.leftovers(other.marker)).length > 0, true, 'a run with another tag is left alone');
      other.stop.abort();
      await other.running;
    }
    return undefined;
  },
};

/** A run under another tag, which a by-tag killTagged must not touch. */
async function bystander(rt: RuntimeUnderTest) {
  const marker = newMarker();
  const stop = new AbortController();
  const running = run(rt, { argv: sh(nap(marker, 1), marker), tag: `contract-${marker}`, signal: stop.signal });
  await expectRunning(rt, marker, [1]);
  return { marker, stop, running };
}

const stdinCase: ContractCase = {
  id: 'stdin',
  name: 'stdin: delivered and closed; or kept open for a conversation that finish() ends as finished',
  async check(rt) {
    const m = newMarker();
    const cat = await run(rt, { argv: ['cat'], stdin: 'hello\nworld' });
    assert.deepEqual(cat.out, ['hello', 'world']);
    assert.equal(cat.result.exitCode, 0, 'cat saw the end of its input');
    let io: Parameters<NonNullable<ExecSpec['onStart']>>[0] | undefined;
    const talk = await run(rt, {
      argv: sh(`while read x; do echo "echo:$x"; done; echo "stdin closed"; ${nap(m, 1)}`, m),
      stdin: 'one\n',
      keepStdinOpen: true,
      onStart: (handle) => (io = handle),
      onLine: (_stream, line) => {
        if (line === 'echo:one') io?.write('two\n');
        if (line === 'echo:two') io?.closeStdin();
        if (line === 'stdin closed') io?.finish();
      },
    });
    assert.deepEqual(talk.out, ['echo:one', 'echo:two', 'stdin closed']);
    assert.equal(talk.result.end, 'finished');
    await expectNoLeftovers(rt, m, 'finish()');
    return undefined;
  },
};

const memoryCase: ContractCase = {
  id: 'memory',
  name: 'limits: a process allocating past the memory limit fails the exec with AgentResourceLimit',
  notFor: (traits) => (traits.memory ? undefined : 'the subject declares no memory limit (traits.memory: false)'),
  async check(rt, traits) {
    const limitMb = traits.memory ? traits.memory.limitMb : 0;
    // Bounded: with no limit at all it stops at 4x the limit and exits 0, failing the case instead of the machine.
    const hog = `const a = []; for (let i = 0; i < ${(limitMb * 4) / 16}; i++) a.push(Buffer.alloc(16 << 20, 1)); console.log('survived')`;
    await assert.rejects(
      run(rt, { argv: ['node', '-e', hog], hardTimeoutMs: 30_000, within: 40_000 }),
      (err: { type?: string }) => err.type === 'AgentResourceLimit',
    );
    // A later run that merely ends SIGKILLed is not blamed on that earlier kill.
    const later = await run(rt, { argv: ['sh', '-c', 'kill -KILL $$'] });
    assert.ok(later.result.exitCode === 137 || later.result.signal === 'SIGKILL', `ended SIGKILLed: ${JSON.stringify(later.result)}`);
    return undefined;
  },
};

export const runtimeCases: readonly ContractCase[] = [
  envCase,
  outputCase,
  idleCase,
  timeoutCase,
  cancelCase,
  cleanupCase,
  killTaggedCase,
  stdinCase,
  memoryCase,
];

export const caseById = (id: string): ContractCase => {
  const found = runtimeCases.find((c) => c.id === id);
  assert.ok(found, `no contract case ${id}`);
  return found;
};

/** Registers the contract's cases for one subject, sharing one started runtime. */
export function runtimeContract(subject: RuntimeSubject, cases: readonly ContractCase[] = runtimeCases): void {
  describe(`runtime contract: ${subject.name}`, { skip: subject.skip ?? false }, () => {
    let rt: RuntimeUnderTest | undefined;
    before(async () => {
      rt = await subject.start();
    });
    after(async () => {
      await rt?.stop();
    });
    for (const c of cases) {
      const notFor = c.notFor?.(subject.traits);
      it(c.name, { timeout: 60_000, ...(notFor ? { skip: notFor } : {}) }, async (t) => {
        assert.ok(rt, `${subject.name} did not start`);
        const note = await c.check(rt, subject.traits);
        if (note) t.diagnostic(note);
      });
    }
  });
}
