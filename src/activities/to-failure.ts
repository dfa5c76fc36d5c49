import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { GitCancelled } from '../git/git.js';
import { AppError, ERROR_POLICY } from '../shared/errors.js';
import { redactDeep, type Redact } from './redact.js';

const keep: Redact = (text) => text;
const MESSAGE_LIMIT = 4_000;

/** The one place where errors become Temporal failures; the error table decides retryability. */
export function toFailure(err: unknown, redact: Redact = keep): Error {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  if (err instanceof AppError) {
    return ApplicationFailure.create({
      type: err.type,
      // Redacted before it is cut: a secret cut in half would not be recognized.
      message: redact(err.message).slice(0, MESSAGE_LIMIT),
      nonRetryable: !ERROR_POLICY[err.type].retryable,
      details: err.details ? [redactDeep(err.details, redact)] : [],
    });
  }
  const message = redact(String((err as Error)?.message ?? err)).slice(0, MESSAGE_LIMIT);
  return ApplicationFailure.create({ type: 'Unexpected', message, nonRetryable: false });
}

function cancelled(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false; // not inside an activity (unit tests)
  }
}

/**
 * Wraps each activity so that every thrown error goes through toFailure and every result is redacted: both
 * end up in workflow history.
 */
export function failuresMapped<T extends Record<string, (...args: never[]) => Promise<unknown>>>(acts: T, redact: Redact = keep): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    out[name] = async (...args: never[]) => {
      try {
        return redactDeep(await fn(...args), redact);
      } catch (err) {
        // Whatever broke while the activity was being cancelled (a killed git, an aborted wait) is the cancel.
        if (err instanceof GitCancelled || cancelled()) throw new CancelledFailure('job cancelled');
        throw toFailure(err, redact);
      }
    };
  }
  return out as T;
}
