import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ANSWER_MAX, answerText } from '../../src/shared/answer.js';
import { AnswerPayload } from '../../src/shared/schemas.js';

/** Payloads near every edge: whitespace, the length limit, wrong types, extra keys. */
const payloads = fc.oneof(
  fc.record({ text: fc.string() }),
  fc.record({
    text: fc.constantFrom('', ' ', '\n\t ', ' ok ', 'x'.repeat(ANSWER_MAX), ` ${'x'.repeat(ANSWER_MAX)} `, 'x'.repeat(ANSWER_MAX + 1)),
  }),
  fc.record({ text: fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string())) }),
  fc.record({ text: fc.string(), extra: fc.anything() }),
  fc.anything(),
);

describe('answerText', () => {
  it('accepts exactly what AnswerPayload accepts, and gives the same text (the workflow checks answers without zod)', () => {
    fc.assert(
      fc.property(payloads, (payload) => {
        const ours = answerText(payload);
        const zods = AnswerPayload.safeParse(payload);
        assert.equal('text' in ours, zods.success, JSON.stringify(payload)?.slice(0, 200));
        if ('text' in ours && zods.success) assert.equal(ours.text, zods.data.text);
      }),
      { numRuns: 2_000 },
    );
  });
});
