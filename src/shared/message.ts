/**
 * A steering message's payload (signal `message`), checked without zod for the same reason as answers
 * (answer.ts). `MessagePayload` (schemas) states the same rule for the client.
 */
export const MESSAGE_MAX = 4_000;
/** Messages a job keeps: each is in its status, its result and every later full prompt. */
export const MESSAGES_MAX = 50;

export function messageText(payload: unknown): { text: string } | { problem: string } {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { problem: 'expected an object {"text": "..."}' };
  const text = (payload as { text?: unknown }).text;
  if (typeof text !== 'string') return { problem: 'text: expected a string' };
  const trimmed = text.trim();
  if (trimmed.length === 0) return { problem: 'text: must not be empty' };
  if (trimmed.length > MESSAGE_MAX) return { problem: `text: at most ${MESSAGE_MAX} characters` };
  return { text: trimmed };
}
