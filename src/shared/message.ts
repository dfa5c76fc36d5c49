/**
 * A steering message's payload (signal `message`), checked without zod for the same reason as answers
 * (answer.ts). `MessagePayload` (schemas) states the same rule for the client.
 */
export const MESSAGE_MAX = 2_000;
/** Messages a job keeps: each is in every later run's input (a fresh CLI remembers none), so few and short. */
export const MESSAGES_MAX = 20;

/**
 * The agents whose CLI takes a message while it runs (their backend's run has `steer`): for the others the
 * workflow schedules no live delivery, and the message waits for the next run.
 */
export const LIVE_INPUT_AGENTS: ReadonlySet<string> = new Set(['claude-code']);

export function messageText(payload: unknown): { text: string } | { problem: string } {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { problem: 'expected an object {"text": "..."}' };
  const text = (payload as { text?: unknown }).text;
  if (typeof text !== 'string') return { problem: 'text: expected a string' };
  const trimmed = text.trim();
  if (trimmed.length === 0) return { problem: 'text: must not be empty' };
  if (trimmed.length > MESSAGE_MAX) return { problem: `text: at most ${MESSAGE_MAX} characters` };
  return { text: trimmed };
}
