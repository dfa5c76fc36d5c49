/**
 * What Claude Code's stream-json session does while it runs: the steering messages written into it, which
 * the CLI confirms by replaying them (--replay-user-messages) when it takes them, and the model calls it
 * has made so far.
 */
import type { AgentUsage } from '../shared/schemas.js';
import { num } from './backend.js';

export class ClaudeLiveSession {
  /** Steering messages written and not yet replayed by the CLI, oldest first. */
  private readonly pending: string[] = [];
  private finalGiven = false;
  private readonly calls = new Map<string, { input: number; output: number; cached: number }>();

  /** The stdin line for a person's message, or undefined once the CLI has given its final result. */
  steer(text: string): string[] | undefined {
    if (this.finalGiven) return undefined;
    this.pending.push(text);
    return [userLine(text)];
  }

  /** A replayed user message that is the oldest pending steering message: it is now in the session. */
  replayed(msg: Record<string, any>): string[] {
    if (msg.isReplay !== true) return [];
    const content = msg.message?.content;
    const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((b) => b?.text ?? '').join('\n') : '';
    // The CLI may take several queued messages as one: each pending one the replay contains is taken.
    const taken: string[] = [];
    while (this.pending[0] !== undefined && text.includes(this.pending[0])) taken.push(this.pending.shift() as string);
    return taken;
  }

  unconfirmed(): string[] {
    return [...this.pending];
  }

  /**
   * Whether a result is the run's last. A message the CLI has not taken yet when a turn ends starts another
   * turn (it takes one mid-turn into the same turn), so only a result with none pending is.
   */
  resultIsFinal(): boolean {
    this.finalGiven = this.pending.length === 0;
    return this.finalGiven;
  }

  /** Counts an assistant message's usage once per model call (a call's message id appears on several lines). */
  counted(msg: Record<string, any>): void {
    const m = msg.message;
    if (typeof m?.id !== 'string' || !m.usage) return;
    const u = m.usage;
    const cached = num(u.cache_read_input_tokens);
    const prev = this.calls.get(m.id);
    this.calls.set(m.id, {
      input: num(u.input_tokens) + num(u.cache_creation_input_tokens) + cached,
      output: Math.max(prev?.output ?? 0, num(u.output_tokens)),
      cached,
    });
  }

  usage(): AgentUsage | undefined {
    if (this.calls.size === 0) return undefined;
    const sum = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: null, turns: this.calls.size };
    for (const c of this.calls.values()) {
      sum.inputTokens += c.input;
      sum.outputTokens += c.output;
      sum.cachedInputTokens += c.cached;
    }
    return sum;
  }
}

export function userLine(text: string): string {
  return `${JSON.stringify({ type: 'user', message: { role: 'user', content: text }, parent_tool_use_id: null, session_id: '' })}\n`;
}
