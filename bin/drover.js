#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// Memory, set where node starts (neither can be changed later): a young generation of 4 MB instead of 16,
// and two malloc arenas instead of one per thread (the SDK's Rust core, libuv and V8 run many). A worker
// with 32 jobs in flight peaked at about 203 MB resident with both, 249 MB with the first only, and 283
// with neither (bench/README.md).
// Runs the compiled CLI in dist/ (npm run build; ./drover and `npm install` build it). When dist/ is missing
// or older than src/, or DROVER_FROM_SOURCE=1, it runs the TypeScript sources through tsx instead: slower to
// start (about 1 s), never stale.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const fromSource = process.env.DROVER_FROM_SOURCE === '1' || !distIsCurrent();

if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  await import('../dist/cli/main.js');
}

/** dist/ was built after the last change to any file in src/ (a walk of about 100 files: 1-2 ms). */
function distIsCurrent() {
  let built;
  try {
    built = statSync(new URL('dist/.build-stamp', root)).mtimeMs;
  } catch {
    return false;
  }
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const path = new URL(`${e.name}${e.isDirectory() ? '/' : ''}`, dir);
      return e.isDirectory() ? newer(path) : statSync(path).mtimeMs > built;
    });
  try {
    if (!newer(new URL('src/', root))) return true;
  } catch {
    return false;
  }
  process.stderr.write('drover: dist/ is older than src/; running from source (npm run build makes it fast again)\n');
  return false;
}
