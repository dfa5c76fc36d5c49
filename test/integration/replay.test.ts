import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, it, before } from 'node:test';
import { Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { installRuntime, workflowBundle } from '../../src/worker.js';

const DIR = new URL('../fixtures/histories/', import.meta.url).pathname;
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

/** Recorded histories must replay through today's workflow code: a change that breaks one needs patched(). */
describe('replay of recorded agentJobWorkflow histories', () => {
  let bundle: WorkflowBundleOption;
  before(async () => {
    installRuntime();
    bundle = await workflowBundle();
  });

  it('has recorded histories to replay', () => assert.ok(files.length >= 3, `found ${files.length}`));

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, file);
    });
  }

  // What `drover worker` runs from dist/: the bundle the build made, when it is newer than the workflow code.
  const built = new URL('../../dist/workflow-bundle.js', import.meta.url).pathname;
  const current = existsSync(built) && newestSource(['workflows', 'shared']) < statSync(built).mtimeMs;
  for (const file of files) {
    it(`replays ${file} through the built bundle (dist/)`, {
      skip: current ? false : 'dist/ is missing or older than src/ (npm run build)',
    }, async () => {
      const history = JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: { codePath: built } }, history, file);
    });
  }
});

function newestSource(dirs: string[]): number {
  const src = new URL('../../src/', import.meta.url).pathname;
  // Recursive: shared/schemas/ is in the bundle too.
  return Math.max(...dirs.flatMap((d) => readdirSync(`${src}${d}`, { recursive: true }).map((f) => statSync(`${src}${d}/${f}`).mtimeMs)));
}
