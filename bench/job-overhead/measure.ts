/** Sampling arms (interleaved at concurrency 1, fan-out rounds at C) and their statistics. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { JobResult } from '../../src/shared/schemas.js';
import type { Mode, RepoKind } from './options.js';
import { log, now, round1 } from './shared.js';

export interface ScenarioResult {
  repo: RepoKind;
  scenario: string;
  kind: 'drover' | 'git';
  mode?: Mode;
  concurrency: number;
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
  /** Summed wall time of this arm's rounds (interleaved arms do not overlap). */
  wallMs: number;
  perSecond: number;
  errors: string[];
  samplesMs: number[];
  /** Jobs: median time per phase (Drover: JobResult.durationsMs in workflow time; baseline: wall time). */
  phasesP50Ms?: Record<string, number>;
  /**
   * Event-loop delay of this process while the arm ran (p99: the median over the arm's turns of each turn's
   * p99; max: the longest single delay). The worker runs in a process of its own since 2026-12-01, so this is
   * the client's and the bench's own waiting for the JavaScript thread.
   */
  eventLoopDelayMs: { p99: number; max: number };
}

/** One thing to measure. `run` is timed from outside unless `selfTimed`, in which case it returns its own ms. */
export interface Arm {
  meta: Pick<ScenarioResult, 'repo' | 'scenario' | 'kind' | 'mode'>;
  run: () => Promise<unknown>;
  selfTimed?: boolean;
}

export const armMeta = (repo: RepoKind, scenario: string, kind: Arm['meta']['kind'], mode?: Mode): Arm['meta'] => ({
  repo,
  scenario,
  kind,
  ...(mode ? { mode } : {}),
});

interface Recording {
  samples: number[];
  errors: string[];
  wallMs: number;
  phases: Record<string, number[]>;
  /** Per turn: the event-loop delay histogram's p99 and max, in ms. */
  loopP99: number[];
  loopMax: number[];
}
const newRecording = (): Recording => ({ samples: [], errors: [], wallMs: 0, phases: {}, loopP99: [], loopMax: [] });

/** Nearest-rank percentile (p95 of 10 samples is the largest one). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

/** The nearest-rank p50 of unsorted values, to 0.1. */
export const median = (values: number[]) =>
  round1(
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    ),
  );

/**
 * Runs `work` and adds its wall time to the arm, with a fresh event-loop histogram (one enabled across turns
 * would count the time between turns as one long delay).
 */
async function timedTurn(rec: Recording, work: () => Promise<unknown>): Promise<void> {
  const t = now();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    await work();
  } finally {
    loop.disable();
    rec.wallMs += now() - t;
    if (loop.count > 0) {
      rec.loopP99.push(loop.percentile(99) / 1e6);
      rec.loopMax.push(loop.max / 1e6);
    }
  }
}

async function sampleOnce(arm: Arm, rec: Recording): Promise<void> {
  const t0 = now();
  try {
    const value = await arm.run();
    rec.samples.push(arm.selfTimed ? (value as number) : now() - t0);
    const phases = (value as Partial<JobResult> | undefined)?.durationsMs;
    if (phases) for (const [k, v] of Object.entries(phases)) rec.phases[k] = [...(rec.phases[k] ?? []), v];
  } catch (err) {
    rec.errors.push((err as Error).message.split('\n')[0] ?? String(err));
  }
}

const warmedUp = new WeakSet<Arm>();

/** One discarded sample per arm, before its first measured one. */
async function warmUp(arms: Arm[]): Promise<void> {
  for (const arm of arms) {
    if (warmedUp.has(arm)) continue;
    warmedUp.add(arm);
    await arm.run().catch((err) => log(`warmup of ${arm.meta.scenario} failed: ${(err as Error).message.split('\n')[0]}`));
  }
}

/**
 * Concurrency 1: `n` rounds, each running every arm once, in alternating order (A B, B A, ...), so drift in
 * the machine and the file system's state hit every arm alike.
 */
export async function interleaved(results: ScenarioResult[], arms: Arm[], n: number): Promise<ScenarioResult[]> {
  await warmUp(arms);
  const recs = arms.map(newRecording);
  for (let i = 0; i < n; i++) {
    const order = arms.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) await timedTurn(recs[k]!, () => sampleOnce(arms[k]!, recs[k]!));
  }
  return arms.map((arm, k) => record(results, arm, 1, recs[k]!));
}

/**
 * Concurrency C: rounds in which an arm starts C samples at once (a fan-out of C jobs) and waits for all of
 * them; arms take turns, in alternating order. `n` samples per arm in ceil(n / C) rounds.
 */
export async function fanOut(results: ScenarioResult[], arms: Arm[], concurrency: number, n: number): Promise<ScenarioResult[]> {
  await warmUp(arms);
  const recs = arms.map(newRecording);
  const rounds = Math.ceil(n / concurrency);
  for (let r = 0; r < rounds; r++) {
    const size = Math.min(concurrency, n - r * concurrency);
    const order = arms.map((_, k) => k);
    if (r % 2 === 1) order.reverse();
    for (const k of order) {
      await timedTurn(recs[k]!, () => Promise.all(Array.from({ length: size }, () => sampleOnce(arms[k]!, recs[k]!))));
    }
  }
  return arms.map((arm, k) => record(results, arm, concurrency, recs[k]!));
}

/** The arm's statistics, added to `results` and logged. */
function record(results: ScenarioResult[], arm: Arm, concurrency: number, rec: Recording): ScenarioResult {
  const sorted = [...rec.samples].sort((a, b) => a - b);
  const s: ScenarioResult = {
    ...arm.meta,
    concurrency,
    n: sorted.length,
    p50: round1(percentile(sorted, 50)),
    p95: round1(percentile(sorted, 95)),
    min: round1(sorted[0] ?? NaN),
    max: round1(sorted.at(-1) ?? NaN),
    mean: round1(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
    wallMs: Math.round(rec.wallMs),
    perSecond: Math.round((sorted.length / (rec.wallMs / 1000)) * 100) / 100,
    errors: rec.errors,
    samplesMs: rec.samples.map(round1),
    eventLoopDelayMs: { p99: median(rec.loopP99), max: round1(Math.max(0, ...rec.loopMax)) },
  };
  if (Object.keys(rec.phases).length > 0) {
    s.phasesP50Ms = Object.fromEntries(Object.entries(rec.phases).map(([k, v]) => [k, median(v)]));
  }
  results.push(s);
  log(
    `${arm.meta.repo.padEnd(5)} ${arm.meta.scenario.padEnd(36)} c=${concurrency} n=${s.n} p50=${s.p50}ms p95=${s.p95}ms` +
      (rec.errors.length ? `  ERRORS=${rec.errors.length}: ${rec.errors[0]}` : ''),
  );
  return s;
}
