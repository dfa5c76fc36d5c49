import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { AppError, ERROR_POLICY } from '../shared/errors.js';

/** The one place where errors become Temporal failures; the error table decides retryability. */
export function toFailure(err: unknown): Error {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  if (err instanceof AppError) {
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: !ERROR_POLICY[err.type].retryable,
      details: err.details ? [err.details] : [],
    });
  }
  return ApplicationFailure.create({ type: 'Unexpected', message: String((err as Error)?.message ?? err), nonRetryable: false });
}

/** Wraps each activity so every thrown error goes through toFailure. */
export function failuresMapped<T extends Record<string, (...args: never[]) => Promise<unknown>>>(acts: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
  }
  return out as T;
}
