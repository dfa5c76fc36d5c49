import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers, importsOf } from '../../scripts/check-layers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UPWARD = fileURLToPath(new URL('../fixtures/layers/upward/', import.meta.url));
const LOOP = fileURLToPath(new URL('../fixtures/layers/loop/', import.meta.url));

describe('the layer rule (scripts/check-layers.ts)', () => {
  it('passes on src/', () => {
    assert.deepEqual(checkLayers(ROOT), []);
  });

  it('fails on a tree that imports upward, naming each bad import and nothing else', () => {
    const found = checkLayers(UPWARD).map((v) => `${v.file}:${v.line} ${v.message}`);
    assert.deepEqual(found.sort(), [
      'src/backends/leaky.ts:2 dockerode is imported only by src/runtimes/docker/engine.ts',
      'src/backends/leaky.ts:3 backends may not import client: ../client.js',
      'src/shared/leak.ts:2 shared may not import activities: ../activities/thing.js',
      'src/workflows/flow.ts:3 workflows may not import activities (types only, with `import type`): ../activities/thing.js',
    ]);
  });

  it('fails on a loop of value imports, naming the files around it', () => {
    assert.deepEqual(
      checkLayers(LOOP).map((v) => v.message),
      ['import loop: src/config/a.ts -> src/config/b.ts -> src/config/a.ts'],
    );
  });

  it('tells type-only imports from value imports, and sees require() and import()', () => {
    const edges = importsOf(
      'x.ts',
      [
        "import type { A } from './a.js';",
        "import { type B, type C } from './b.js';",
        "import { type D, e } from './d.js';",
        "export type { F } from './f.js';",
        "const g = require('./g.js');",
        "const h = await import('./h.js');",
        "type I = import('./i.js').I;",
        "import './j.js';",
      ].join('\n'),
    );
    assert.deepEqual(
      edges.map((e) => `${e.spec}:${e.typeOnly ? 'type' : 'value'}`),
      ['./a.js:type', './b.js:type', './d.js:value', './f.js:type', './g.js:value', './h.js:value', './i.js:type', './j.js:value'],
    );
  });
});
