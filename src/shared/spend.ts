import type { AgentUsage, Budget, BudgetSpend } from './schemas.js';

/** "1200/5000 tokens, 3 turns, $0.0123/$0.5, 40s" : each figure against its limit when the budget has one. */
export function spendText(s: BudgetSpend, b: Budget | undefined): string {
  const of = (limit: number | undefined) => (limit === undefined ? '' : `/${limit}`);
  const parts = [`${s.tokens}${of(b?.tokens)} tokens`, `${s.turns}${of(b?.turns)} turns`];
  if (s.usd !== null || b?.usd !== undefined) parts.push(`$${(s.usd ?? 0).toFixed(4)}${b?.usd === undefined ? '' : `/$${b.usd}`}`);
  parts.push(`${Math.round(s.wallTimeMs / 1000)}s${b?.wallTime ? `/${b.wallTime}` : ''}`);
  return parts.join(', ');
}

/** A session's running total less an earlier one: what was spent in between. */
export function usageMinus(a: AgentUsage, b: AgentUsage): AgentUsage {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    cachedInputTokens: Math.max(0, a.cachedInputTokens - b.cachedInputTokens),
    costUsd: a.costUsd === null ? null : Math.max(0, a.costUsd - (b.costUsd ?? 0)),
    // Turns are counted per run by every backend.
    turns: a.turns,
  };
}
