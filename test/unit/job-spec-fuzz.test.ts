import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { prepareJob } from '../../src/client.js';
import { DroverConfig } from '../../src/config/schema.js';
import { AppError } from '../../src/shared/errors.js';
import { JobInput, type JobSpecInput } from '../../src/shared/schemas.js';
import { jobSpecArb } from '../support/job-spec-arbitrary.js';
import { makeRepo } from '../support/harness.js';

const EDGE_TYPES = new Set(['InvalidInput', 'RepoNotFound', 'RepoNotAllowed', 'EnvNotAllowed']);

describe('job specs, fuzzed against the submit edge', () => {
  it('every spec is either rejected with one typed, one-line error, or accepted as a valid, JSON-plain job input (1,000 cases)', async (t) => {
    const repo = makeRepo();
    const config = DroverConfig.parse({ docker: { envAllow: ['ANTHROPIC_*'] } });
    const seen = { accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(jobSpecArb(repo), async (spec) => {
        let input: JobInput;
        try {
          input = await prepareJob(spec as JobSpecInput, config);
        } catch (err) {
          seen.rejected++;
          assert.ok(err instanceof AppError, `not a Drover error: ${String(err)}`);
          assert.ok(EDGE_TYPES.has(err.type), `type ${err.type}`);
          assert.ok(!err.message.includes('\n') && !err.message.includes('\r'), `one line: ${JSON.stringify(err.message)}`);
          assert.ok(err.message.length > 0);
          return;
        }
        seen.accepted++;
        const wire = JSON.parse(JSON.stringify(input)) as unknown;
        assert.deepEqual(JobInput.parse(wire), input, 'what the workflow receives parses to the same job');
        assert.deepEqual(wire, input, 'JSON-plain');
      }),
      { numRuns: 1_000 },
    );
    // A property that only ever rejects would prove little.
    assert.ok(seen.accepted >= 20 && seen.rejected >= 20, JSON.stringify(seen));
    t.diagnostic(`accepted ${seen.accepted}, rejected ${seen.rejected}`);
  });
});
