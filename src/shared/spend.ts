import type { Budget, BudgetSpend } from './schemas.js';

/** "1200/5000 tokens, 3 turns, $0.0123/$0.5, 40s" : each figure against its limit when the budget has one. */
export function spendText(s: BudgetSpend, b: Budget | undefined): string {
  const of = (limit: number | undefined) => (limit === undefined ? '' : `/${limit}`);
  const parts = [`${s.tokens}${of(b?.tokens)} tokens`, `${s.turns}${of(b?.turns)} turns`];
  if (s.usd !== null || b?.usd !== undefined) parts.push(`$${(s.usd ?? 0).toFixed(4)}${b?.usd === undefined ? '' : `/$${b.usd}`}`);
  parts.push(`${Math.round(s.wallTimeMs / 1000)}s${b?.wallTime ? `/${b.wallTime}` : ''}`);
  return parts.join(', ');
}
