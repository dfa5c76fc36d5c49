#!/usr/bin/env node
/**
 * Builds what the CLI and the worker run: src/ transpiled file by file to dist/ (esbuild, no type check: that
 * is `npm run typecheck`), and the workflow bundle, made once here instead of at every worker start.
 * Runs after `npm install` (the `prepare` script) and from ./drover when src/ changed; about 3 s.
 *
 * Plain JavaScript on purpose: it must run before anything is built.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const out = join(root, 'dist');
const started = Date.now();

const sources = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) sources.push(path);
  }
};
walk(src);

// Into a fresh directory, renamed over dist/ at the end: a failed or interrupted build never leaves a dist/
// that mixes two versions (the stamp says the whole of it is current).
const staging = join(root, `.dist-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
try {
  await build({
    entryPoints: sources,
    outdir: staging,
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: false,
    sourcemap: 'linked',
    logLevel: 'warning',
    // agent-job.ts requires the schemas lazily, for webpack's workflow bundle; its dist/ copy is never run.
    logOverride: { 'unsupported-require-call': 'silent' },
  });
  // The worker loads this instead of running webpack at start (seconds, and about 100 MB it keeps).
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath: join(src, 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') });
  writeFileSync(join(staging, 'workflow-bundle.js'), code);
  writeFileSync(join(staging, '.build-stamp'), `${new Date().toISOString()}\n`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(dirname(out), { recursive: true });
  renameSync(staging, out);
} catch (err) {
  rmSync(staging, { recursive: true, force: true });
  process.stderr.write(`drover build: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
}
process.stderr.write(
  `drover: built dist/ (${sources.length} files and the workflow bundle) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
);
