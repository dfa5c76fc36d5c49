/**
 * The job's budget over all its runs: every attempt, revision, answer and subtask adds to the job's usage
 * (JobState.addUsage). No new run starts once a limit is reached, and a running one gets only what is left.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { durationMs } from '../shared/duration.js';
import type { BudgetSpend, JobInput, RunAllowance } from '../shared/schemas.js';
import type { JobState } from './job-state.js';

export function spendOf(state: JobState): BudgetSpend {
  const u = state.usage;
  return {
    usd: u?.costUsd ?? null,
    tokens: u ? u.inputTokens + u.outputTokens : 0,
    turns: u?.turns ?? 0,
    wallTimeMs: Date.now() - workflowInfo().startTime.getTime(),
  };
}

/** The first limit the job has reached, said in words, or undefined. */
export function budgetReached(job: JobInput, state: JobState): string | undefined {
  const b = job.budget;
  if (!b) return undefined;
  const s = spendOf(state);
  if (b.tokens !== undefined && s.tokens >= b.tokens) return `spent ${s.tokens} of ${b.tokens} tokens`;
  if (b.usd !== undefined && (s.usd ?? 0) >= b.usd) return `spent $${(s.usd ?? 0).toFixed(4)} of $${b.usd}`;
  if (b.turns !== undefined && s.turns >= b.turns) return `took ${s.turns} of ${b.turns} turns`;
  if (b.wallTime !== undefined && s.wallTimeMs >= durationMs(b.wallTime))
    return `ran ${Math.round(s.wallTimeMs / 1000)} s of ${b.wallTime}`;
  return undefined;
}

/** Throws BudgetExceeded when a limit is reached: the job then ends with its spend and, if asked, its work. */
export function requireBudget(job: JobInput, state: JobState, stopped?: string): void {
  const reached =
    budgetReached(job, state) ??
    (stopped ? "the running agent reached what it had left (the job's budget or its worker's daily ceiling)" : undefined);
  if (!reached) return;
  const message = `budget exceeded: ${reached}${stopped ? `; Drover ${stopped}` : ''}`;
  throw ApplicationFailure.create({ type: 'BudgetExceeded', message, nonRetryable: true });
}

/** What the next run may spend before it is stopped. */
export function allowanceOf(job: JobInput, state: JobState): { allowance?: RunAllowance } {
  const b = job.budget;
  if (!b) return {};
  const s = spendOf(state);
  const left: RunAllowance = {};
  if (b.tokens !== undefined) left.tokens = b.tokens - s.tokens;
  if (b.usd !== undefined) left.usd = b.usd - (s.usd ?? 0);
  if (b.turns !== undefined) left.turns = b.turns - s.turns;
  if (b.wallTime !== undefined) left.wallMs = durationMs(b.wallTime) - s.wallTimeMs;
  return Object.keys(left).length > 0 ? { allowance: left } : {};
}
