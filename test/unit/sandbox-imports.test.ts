import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;
const SANDBOXED = ['workflows', 'shared'];
const ALLOWED_PACKAGES = new Set(['@temporalio/workflow', '@temporalio/common', 'zod']);

/** Every import in the workflow sandbox: value imports must stay inside it; type-only imports may point anywhere. */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)].map((m) => ({ spec: m[2]!, typeOnly: !!m[1] }));
}

describe('the workflow sandbox (src/workflows, src/shared)', () => {
  for (const dir of SANDBOXED) {
    for (const name of readdirSync(join(SRC, dir)).filter((f) => f.endsWith('.ts'))) {
      const file = join(SRC, dir, name);
      it(`${relative(SRC, file)} imports only workflow-safe modules`, () => {
        for (const { spec, typeOnly } of imports(file)) {
          if (typeOnly) continue;
          if (spec.startsWith('.')) {
            const target = relative(SRC, join(SRC, dir, spec));
            assert.ok(
              SANDBOXED.some((d) => target.startsWith(`${d}/`)),
              `${name} value-imports ${spec} from outside the sandbox`,
            );
          } else {
            assert.ok(ALLOWED_PACKAGES.has(spec), `${name} imports ${spec}`);
          }
        }
      });
    }
  }
});
