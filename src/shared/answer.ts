/**
 * An answer signal's payload, checked without zod. The workflow checks every answer it gets, and in the
 * workflow sandbox every imported module is evaluated again for each new workflow: zod and Drover's schemas
 * cost a job about 17 ms of CPU that way. `AnswerPayload` (schemas.ts) states the same rule for the client.
 */
export const ANSWER_MAX = 20_000;

/** The trimmed answer, or what is wrong with the payload. */
export function answerText(payload: unknown): { text: string } | { problem: string } {
  const text = (payload as { text?: unknown } | null)?.text;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { problem: 'expected an object {"text": "..."}' };
  if (typeof text !== 'string') return { problem: 'text: expected a string' };
  const trimmed = text.trim();
  if (trimmed.length === 0) return { problem: 'text: must not be empty' };
  if (trimmed.length > ANSWER_MAX) return { problem: `text: at most ${ANSWER_MAX} characters` };
  return { text: trimmed };
}
