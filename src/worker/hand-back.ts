/**
 * Handing jobs back when a draining worker runs out of time. Its running activities are cancelled by the SDK's
 * shutdown; this interceptor turns such a cancel into a WorkspaceLost failure, which the job workflow already
 * reads as "the host is gone" and answers by starting the job over on another worker at once. Without it, the
 * server would retry on this worker's queue until the job's worker-pickup timeout (minutes) ran out.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** Teardown and cleanup belong to a job that is ending; reading a log page is not the job's work at all. */
const NOT_HANDED_BACK = new Set(['runTeardown', 'cleanupWorkspace', 'readJobLogPage']);

export interface HandBack {
  /** From now on, a cancelled activity fails as WorkspaceLost. */
  start(): void;
  readonly active: boolean;
  interceptor: ActivityInterceptorsFactory;
}

export function createHandBack(workerId: string): HandBack {
  let active = false;
  const interceptor: ActivityInterceptorsFactory = () => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          const type = Context.current().info.activityType;
          if (!active || NOT_HANDED_BACK.has(type) || !isCancel(err)) throw err;
          throw ApplicationFailure.create({
            type: 'WorkspaceLost',
            message: `worker ${workerId} is shutting down and handed the job back (its drain timeout ran out)`,
            nonRetryable: true,
          });
        }
      },
    },
  });
  return {
    start: () => {
      active = true;
    },
    get active() {
      return active;
    },
    interceptor,
  };
}

const isCancel = (err: unknown): boolean =>
  err instanceof CancelledFailure || (err as Error)?.name === 'AbortError' || Context.current().cancellationSignal.aborted;
