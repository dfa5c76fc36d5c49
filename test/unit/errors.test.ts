import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { toFailure } from '../../src/activities/to-failure.js';
import { AppError, ERROR_POLICY, exitCodeFor, EXIT, failureTypeOf } from '../../src/shared/errors.js';

describe('the error table', () => {
  it('makes bad input and protocol errors non-retryable, transient ones retryable', () => {
    for (const t of ['InvalidInput', 'RepoNotFound', 'BaseRefNotFound', 'AgentTimeout', 'AgentCommandNotFound', 'HumanTimeout'] as const) {
      assert.equal(ERROR_POLICY[t].retryable, false, t);
    }
    for (const t of ['GitFailed', 'AgentFailed', 'AgentIdle', 'Unexpected'] as const) assert.equal(ERROR_POLICY[t].retryable, true, t);
  });
  it('turns AppError into an ApplicationFailure with a stable type and the table retryability', () => {
    const f = toFailure(new AppError('BaseRefNotFound', 'no such ref')) as ApplicationFailure;
    assert.ok(f instanceof ApplicationFailure);
    assert.equal(f.type, 'BaseRefNotFound');
    assert.equal(f.nonRetryable, true);
    const g = toFailure(new AppError('AgentIdle', 'quiet')) as ApplicationFailure;
    assert.equal(g.nonRetryable, false);
  });
  it('passes cancellations through and wraps unknown errors as retryable Unexpected', () => {
    const c = new CancelledFailure('x');
    assert.equal(toFailure(c), c);
    const u = toFailure(new TypeError('boom')) as ApplicationFailure;
    assert.equal(u.type, 'Unexpected');
    assert.equal(u.nonRetryable, false);
  });
  it('finds the type through a cause chain and maps it to an exit code', () => {
    const nested = { cause: { cause: ApplicationFailure.create({ type: 'HumanTimeout', message: 'late' }) } };
    assert.equal(failureTypeOf(nested), 'HumanTimeout');
    assert.equal(exitCodeFor(nested), EXIT.humanTimeout);
    assert.equal(exitCodeFor(new AppError('InvalidInput', 'x')), EXIT.usage);
    assert.equal(exitCodeFor(new Error('other')), EXIT.failed);
  });
});
