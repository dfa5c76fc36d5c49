/** The small schemas the others are made of: durations, ids, refs, repository locations, variable names. */
import { z } from 'zod';
import { DURATION_PATTERN, durationMs } from '../duration.js';
import { gitRefProblem, INTEGRATE_SUFFIX, jobIdProblem } from '../ids.js';
import { repoLocationProblem } from '../repo-location.js';

export const refineProblem = (problem: (v: string) => string | undefined) => (value: string, ctx: z.RefinementCtx) => {
  const p = problem(value);
  if (p) ctx.addIssue({ code: 'custom', message: p });
};

export const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration such as 90s, 5m or 24h')
  .refine((d) => !DURATION_PATTERN.test(d) || durationMs(d) > 0, 'must be longer than 0');

export const JobId = z
  .string()
  .superRefine(refineProblem(jobIdProblem))
  .refine((id) => !id.endsWith(INTEGRATE_SUFFIX), `must not end with "${INTEGRATE_SUFFIX}" (the merge queue's worktrees are named so)`);
export const GitRef = z.string().superRefine(refineProblem(gitRefProblem));

/** A local path or a git URL. Never starts with "-" so it cannot be read as an option by git. */
export const RepoLocation = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(1000)
  .refine((v) => !v.startsWith('-'), 'must not start with "-"')
  .refine((v) => !/[\x00-\x1f\x7f]/.test(v), 'must not contain control characters')
  .superRefine(refineProblem(repoLocationProblem));

export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name');
