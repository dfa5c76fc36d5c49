import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { CancelledFailure } from '@temporalio/common';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import type { CriticVerdict, CriticInput, ValidateInput, ValidationCheck } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import { processTag } from '../shared/ids.js';
import { jobCall, requireJobRepo, whileJobStopped } from './workspace.js';
import { placementFor } from './placement.js';
import { killLeftovers, runSteps } from './steps.js';
import { withHeartbeat } from './heartbeat.js';

const COMMENTS_LIMIT = 4_000;
const RawVerdict = z.object({ approve: z.boolean(), comments: z.string().default('') });

export function createValidationActivities(deps: ActivityContext) {
  return {
    /** Runs every check in the worktree. A failing check is a result, not an error. */
    async runValidations(input: ValidateInput): Promise<ValidationCheck[]> {
      const log = deps.jobLog(input.jobId);
      requireJobRepo(deps, input.jobId, input.worktree);
      const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
      return withHeartbeat(async () => {
        await killLeftovers(place, input.jobId, log);
        return runSteps(deps, { jobId: input.jobId, worktree: input.worktree, place, log, source: 'validate' }, input.steps);
      });
    },

    /** The critic gets the diff on stdin and prints {"approve": bool, "comments": "..."}. */
    async runCritic(input: CriticInput): Promise<CriticVerdict> {
      const log = deps.jobLog(input.jobId);
      const repo = requireJobRepo(deps, input.jobId, input.worktree);
      const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
      return withHeartbeat(async () => {
        const diff = await whileJobStopped(deps, input.jobId, input.worktree, () =>
          deps.git.stagedDiff(repo, input.baseCommit, jobCall(input.jobId)),
        );
        const stdout: string[] = [];
        const r = await place.runtime.exec({
          argv: ['bash', '-c', input.critic.command],
          cwd: input.worktree,
          env: place.env(),
          stdin: diff,
          signal: Context.current().cancellationSignal,
          hardTimeoutMs: durationMs(input.critic.timeout),
          tag: processTag(input.jobId),
          onLine: (stream, line) => {
            if (stream === 'stdout') stdout.push(line);
            log({ source: 'critic', stream, text: line });
          },
        });
        if (r.end === 'cancelled') throw new CancelledFailure('job cancelled during review');
        if (r.end !== 'exit' || r.exitCode !== 0) {
          throw new AppError('CriticFailed', `critic ${r.end === 'exit' ? `exited with ${r.exitCode}` : r.end}`);
        }
        return parseVerdict(stdout, deps.redact);
      });
    },
  };
}

/**
 * The verdict is the last stdout line that parses as one. Its comments are redacted once parsed (JSON may
 * have escaped a secret) and before they are cut.
 */
export function parseVerdict(lines: string[], redact: (text: string) => string = (t) => t): CriticVerdict {
  for (const line of [...lines].reverse()) {
    try {
      const v = RawVerdict.safeParse(JSON.parse(line));
      if (v.success) return { approve: v.data.approve, comments: redact(v.data.comments).slice(0, COMMENTS_LIMIT) };
    } catch {
      // not JSON; keep looking
    }
  }
  throw new AppError('CriticFailed', 'critic printed no {"approve": bool, "comments": "..."} line');
}
