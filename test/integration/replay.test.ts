import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it, before } from 'node:test';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { installRuntime, workflowBundle } from '../../src/worker.js';

const DIR = new URL('../fixtures/histories/', import.meta.url).pathname;
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

/** Recorded histories must replay through today's workflow code: a change that breaks one needs patched(). */
describe('replay of recorded agentJobWorkflow histories', () => {
  let bundle: WorkflowBundle;
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
});
