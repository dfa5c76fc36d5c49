/** How git failures reach the activities: cancellation as its own error, everything else as GitFailed. */
import { AppError } from '../shared/errors.js';

export class GitCancelled extends Error {
  constructor() {
    super('git command cancelled');
    this.name = 'GitCancelled';
  }
}

export const failed = (what: string, err: unknown): Error =>
  err instanceof AppError || err instanceof GitCancelled ? err : new AppError('GitFailed', `${what}: ${lastLine(err)}`, { cause: err });

export const lastLine = (err: unknown) =>
  String((err as Error)?.message ?? err)
    .trim()
    .split('\n')
    .filter(Boolean)
    .slice(-1)[0] ?? '';
