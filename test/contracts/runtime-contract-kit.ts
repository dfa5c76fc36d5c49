/** How the contract's cases start processes and look for what is left of them. */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExecResult, ExecSpec } from '../../src/runtimes/runtime.js';
import type { RuntimeUnderTest } from './runtime.contract.js';

const SUITE = String(randomInt(10_000, 99_999));
let counter = 0;
/**
 * Every process a case starts carries its marker in its command line (as a `sleep` duration, or as `$0` of a
 * shell), so leftovers are found by it; and every marker starts with this, so a subject can sweep them all.
 */
export const CONTRACT_MARK = `300.${SUITE}`;
export const newMarker = () => `${CONTRACT_MARK}${String(++counter).padStart(3, '0')}`;
export const sh = (script: string, marker: string) => ['sh', '-c', script, `contract-${marker}`];
/** A long sleep whose command line is exactly `sleep <marker><n>`. */
export const nap = (marker: string, n: number) => `sleep ${marker}${n}`;
const ROUND_MS = 250;

export interface Run {
  result: ExecResult;
  out: string[];
  err: string[];
}
type RunSpec = Omit<ExecSpec, 'cwd' | 'env' | 'onLine'> & Partial<Pick<ExecSpec, 'cwd' | 'env' | 'onLine'>> & { within?: number };

/** One exec with its lines collected, bounded: a runtime that never ends a run fails the case instead of hanging it. */
export async function run(rt: RuntimeUnderTest, spec: RunSpec): Promise<Run> {
  const { within = 15_000, ...rest } = spec;
  const out: string[] = [];
  const err: string[] = [];
  const cwd = spec.cwd ?? (await rt.makeDir());
  const exec = rt.runtime.exec({
    ...rest,
    cwd,
    env: spec.env ?? rt.env,
    onLine: (stream, line) => {
      (stream === 'stdout' ? out : err).push(line);
      spec.onLine?.(stream, line);
    },
  });
  return { result: await bounded(exec, within, `exec of ${spec.argv.join(' ').slice(0, 60)}`), out, err };
}

export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `${what} did not end within ${ms} ms` })), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A SIGKILLed process takes a moment to leave the process table: a few short rounds, then it counts as left. */
export async function expectNoLeftovers(rt: RuntimeUnderTest, marker: string, after: string): Promise<void> {
  let left = await rt.leftovers(marker);
  for (let i = 0; left.length > 0 && i < 5; i++) {
    await delay(ROUND_MS / 5);
    left = await rt.leftovers(marker);
  }
  assert.deepEqual(left, [], `left running after ${after}`);
}

/** Waits until each `nap(marker, n)` runs, so a case's kill has a whole tree to kill (and the probe can see it). */
export async function expectRunning(rt: RuntimeUnderTest, marker: string, naps: number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = await rt.leftovers(marker);
    const missing = naps.filter((n) => !left.some((l) => l.trim() === nap(marker, n)));
    if (missing.length === 0) return;
    assert.ok(Date.now() < deadline, `the probe never saw ${missing.map((n) => nap(marker, n)).join(', ')} running: ${left.join(' | ')}`);
    await delay(50);
  }
}
