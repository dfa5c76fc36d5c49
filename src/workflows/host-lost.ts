import { ActivityFailure, TimeoutFailure } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import { failureTypeOf } from '../shared/errors.js';

/** The worker holding the work is gone, or it lost the worktree: only a fresh start elsewhere can help. */
export const hostLost = (err: unknown): boolean => workerGone(err) || failureTypeOf(err) === 'WorkspaceLost';

/** A host queue's task nobody took in time: the schedule-to-start timeout, which the server never retries. */
function workerGone(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}
