/**
 * A worker's spend today (UTC), against its daily ceiling (worker.dailyBudget): every agent run on this
 * worker adds what it spent, and no run starts once the ceiling is reached. Kept in the worker's data dir,
 * which no job can write, so a restart keeps the day's count.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../shared/errors.js';
import type { AgentUsage, RunAllowance } from '../shared/schemas.js';

export interface DailyCeiling {
  tokens?: number;
  usd?: number;
}

interface Day {
  day: string;
  tokens: number;
  usd: number;
}

export interface DailySpend {
  /** What a run may spend today; throws BudgetExceeded when nothing is left. */
  allowance(): RunAllowance;
  add(usage: AgentUsage): void;
}

export function createDailySpend(file: string, ceiling: DailyCeiling, now: () => Date = () => new Date()): DailySpend {
  const today = () => now().toISOString().slice(0, 10);
  let spent = load(file, today());
  const current = (): Day => {
    if (spent.day !== today()) spent = { day: today(), tokens: 0, usd: 0 };
    return spent;
  };
  return {
    allowance() {
      const d = current();
      const left: RunAllowance = {};
      if (ceiling.tokens !== undefined) left.tokens = ceiling.tokens - d.tokens;
      if (ceiling.usd !== undefined) left.usd = ceiling.usd - d.usd;
      if ((left.tokens ?? 1) <= 0 || (left.usd ?? 1) <= 0) {
        const what = (left.tokens ?? 1) <= 0 ? `${d.tokens} of ${ceiling.tokens} tokens` : `$${d.usd.toFixed(4)} of $${ceiling.usd}`;
        throw new AppError(
          'BudgetExceeded',
          `budget exceeded: this worker's daily ceiling is spent (${what} today); it resets at 00:00 UTC`,
        );
      }
      return left;
    },
    add(usage) {
      const d = current();
      d.tokens += usage.inputTokens + usage.outputTokens;
      d.usd += usage.costUsd ?? 0;
      save(file, d);
    },
  };
}

function load(file: string, day: string): Day {
  try {
    const d = JSON.parse(readFileSync(file, 'utf8')) as Partial<Day>;
    if (d.day === day && typeof d.tokens === 'number' && typeof d.usd === 'number') return { day, tokens: d.tokens, usd: d.usd };
  } catch {
    // None yet, or unreadable: the day starts at zero.
  }
  return { day, tokens: 0, usd: 0 };
}

function save(file: string, d: Day): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(d));
  renameSync(`${file}.tmp`, file);
}

/** The tighter of two allowances, limit by limit. */
export function tighter(a: RunAllowance | undefined, b: RunAllowance): RunAllowance {
  const min = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  const out: RunAllowance = { ...a };
  const tokens = min(a?.tokens, b.tokens);
  const usd = min(a?.usd, b.usd);
  if (tokens !== undefined) out.tokens = tokens;
  if (usd !== undefined) out.usd = usd;
  return out;
}
