/** How git failures reach the activities: cancellation as its own error, everything else as GitFailed. */
import { AppError } from '../shared/errors.js';

export class GitCancelled extends Error {
  constructor() {
    super('git command cancelled');
    this.name = 'GitCancelled';
  }
}

/** What git prints when the remote refuses the credentials, or when it has none and may not prompt. */
export const AUTH_FAILURE =
  /Authentication failed for|could not read (Username|Password) for|terminal prompts disabled|Permission denied \((publickey|keyboard-interactive)/i;

export const failed = (what: string, err: unknown): Error => {
  if (err instanceof AppError || err instanceof GitCancelled) return err;
  if (AUTH_FAILURE.test(String((err as Error)?.message ?? err))) {
    return new AppError(
      'GitAuthFailed',
      `${what}: ${lastLine(err)} (check the worker's git credentials: credential helper, GIT_ASKPASS, SSH key)`,
      {
        cause: err,
      },
    );
  }
  return new AppError('GitFailed', `${what}: ${lastLine(err)}`, { cause: err });
};

export const lastLine = (err: unknown) =>
  String((err as Error)?.message ?? err)
    .trim()
    .split('\n')
    .filter(Boolean)
    .slice(-1)[0] ?? '';
