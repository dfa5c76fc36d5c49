import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longReason, MAX_FILE_LINES, MAX_FUNCTION_LINES, oversizeIn } from '../../scripts/check-sizes.js';

const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
const fn = (name: string, lines: number) => `function ${name}() {\n${body(lines - 2)}\n}\n`;

describe('the size limits (scripts/check-sizes.ts)', () => {
  it('flags a function over the limit, counting its nested functions, and not one at it', () => {
    const text = `${fn('fits', MAX_FUNCTION_LINES)}const factory = () => ({\n  method() {\n${body(MAX_FUNCTION_LINES)}\n  },\n});\n`;
    assert.deepEqual(
      oversizeIn('x.ts', text).map((o) => `${o.what}:${o.lines}`),
      [`function factory:${MAX_FUNCTION_LINES + 4}`, `function method:${MAX_FUNCTION_LINES + 2}`],
    );
  });

  it('flags a file over the limit, unless its leading comment says why', () => {
    const long = `${Array.from({ length: MAX_FILE_LINES + 1 }, (_, i) => `export const c${i} = ${i};`).join('\n')}\n`;
    assert.deepEqual(
      oversizeIn('x.ts', long).map((o) => o.what),
      ['file'],
    );
    const excused = `/**\n * Generated tables.\n * long: one entry per error code, read as a whole\n */\n${long}`;
    assert.equal(longReason(excused), 'one entry per error code, read as a whole');
    assert.deepEqual(oversizeIn('x.ts', excused), []);
    assert.equal(longReason(`export const a = 1; // long: not leading\n${long}`), undefined);
  });
});
