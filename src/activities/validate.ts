import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { CancelledFailure } from '@temporalio/common';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import { CriticVerdict, type CriticInput, type ValidateInput, type ValidationCheck } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import type { JobLog } from './job-log.js';
import { jobCall, processTag, requireJobRepo, whileJobStopped } from './workspace.js';
import { placementFor, type Placement } from './placement.js';
import { withHeartbeat } from './heartbeat.js';
import { tailBuffer } from './tail-buffer.js';

const OUTPUT_TAIL = 1_500;
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
        const checks: ValidationCheck[] = [];
        for (const step of input.steps) {
          const tail = tailBuffer(OUTPUT_TAIL);
          log({ source: 'validate', text: `$ ${step.command}`, check: step.name });
          const r = await place.runtime.exec({
            argv: ['bash', '-c', step.command],
            cwd: input.worktree,
            env: place.env(),
            signal: Context.current().cancellationSignal,
            hardTimeoutMs: durationMs(step.timeout),
            tag: processTag(input.jobId),
            onLine: (stream, line) => {
              // Redacted before the tail cuts it: half a secret would not be recognized later.
              tail.add(deps.redact(line));
              log({ source: 'validate', stream, text: line, check: step.name });
            },
          });
          if (r.end === 'cancelled') throw new CancelledFailure('job cancelled during validation');
          const passed = r.end === 'exit' && r.exitCode === 0;
          log({ source: 'validate', text: `${step.name}: ${passed ? 'passed' : 'failed'} (exit ${r.exitCode})`, check: step.name });
          checks.push({ name: step.name, passed, exitCode: r.exitCode, durationMs: r.durationMs, outputTail: tail.value, timedOut: r.end === 'timeout' });
        }
        return checks;
      });
    },

    /** The critic gets the diff on stdin and prints {"approve": bool, "comments": "..."}. */
    async runCritic(input: CriticInput): Promise<CriticVerdict> {
      const log = deps.jobLog(input.jobId);
      const repo = requireJobRepo(deps, input.jobId, input.worktree);
      const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
      return withHeartbeat(async () => {
        const diff = await whileJobStopped(deps, input.jobId, input.worktree, () => deps.git.stagedDiff(repo, input.baseCommit, jobCall(input.jobId)));
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
 * Checks and critics are the job's processes like the agent: what a crashed attempt left running is stopped
 * before they run again. A first attempt in a container has nothing to stop (the container is the job's).
 */
async function killLeftovers(place: Placement, jobId: string, log: JobLog): Promise<void> {
  if (place.runtime.kind !== 'host' && Context.current().info.attempt === 1) return;
  const killed = await place.runtime.killTagged(processTag(jobId));
  if (killed > 0) log({ source: 'drover', text: `stopped ${killed} process(es) the job left running` });
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
