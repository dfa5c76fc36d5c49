/** Reading and deleting single refs, in a mirror or a job's git directory. */
import { GitCancelled } from './errors.js';
import type { GitCall, RunGit } from './types.js';
import { AppError } from '../shared/errors.js';

export async function revParse(git: RunGit, gitdir: string, rev: string, call: GitCall): Promise<string | null> {
  const out = await git({ step: 'local', gitdir }, ['rev-parse', '--verify', '--quiet', '--end-of-options', rev], call).catch((err) => {
    if (err instanceof AppError || err instanceof GitCancelled) throw err;
    return '';
  });
  return out || null;
}

export async function deleteRef(git: RunGit, gitdir: string, ref: string, call: GitCall): Promise<void> {
  await git({ step: 'local', gitdir }, ['update-ref', '-d', ref], call);
}
