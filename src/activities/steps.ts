import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { durationMs } from '../shared/duration.js';
import type { Step, ValidationCheck } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';
import type { JobLog } from './job-log.js';
import type { Placement } from './placement.js';
import { tailBuffer } from './tail-buffer.js';
import { processTag } from '../shared/ids.js';

const OUTPUT_TAIL = 1_500;

/**
 * Runs shell steps (setup, checks, teardown) in the worktree, in the job's runtime, each bounded by its
 * timeout, output to the job log and a redacted tail kept for the result. A failing step is a result.
 */
export async function runSteps(
  deps: ActivityContext,
  run: { jobId: string; worktree: string; place: Placement; log: JobLog; source: 'setup' | 'validate' | 'teardown' },
  steps: Step[],
  opts: { stopAtFailure?: boolean } = {},
): Promise<ValidationCheck[]> {
  const { place, log, source } = run;
  const checks: ValidationCheck[] = [];
  for (const step of steps) {
    const tail = tailBuffer(OUTPUT_TAIL);
    log({ source, text: `$ ${step.command}`, check: step.name });
    const r = await place.runtime.exec({
      argv: ['bash', '-c', step.command],
      cwd: run.worktree,
      env: place.env(),
      signal: Context.current().cancellationSignal,
      hardTimeoutMs: durationMs(step.timeout),
      tag: processTag(run.jobId),
      onLine: (stream, line) => {
        // Redacted before the tail cuts it: half a secret would not be recognized later.
        tail.add(deps.redact(line));
        log({ source, stream, text: line, check: step.name });
      },
    });
    if (r.end === 'cancelled') throw new CancelledFailure(`job cancelled during ${source}`);
    const passed = r.end === 'exit' && r.exitCode === 0;
    const how = r.end === 'timeout' ? `timed out after ${step.timeout}` : `exit ${r.exitCode}`;
    log({ source, text: `${step.name}: ${passed ? 'passed' : 'failed'} (${how}, ${(r.durationMs / 1000).toFixed(1)}s)`, check: step.name });
    checks.push({
      name: step.name,
      passed,
      exitCode: r.exitCode,
      durationMs: r.durationMs,
      outputTail: tail.value,
      timedOut: r.end === 'timeout',
    });
    if (!passed && opts.stopAtFailure) break;
  }
  return checks;
}

/**
 * Steps are the job's processes like the agent: what a crashed attempt left running is stopped before they
 * run again. A first attempt in a container has nothing to stop (the container is the job's).
 */
export async function killLeftovers(place: Placement, jobId: string, log: JobLog): Promise<void> {
  if (place.runtime.kind !== 'host' && Context.current().info.attempt === 1) return;
  const killed = await place.runtime.killTagged(processTag(jobId));
  if (killed > 0) log({ source: 'drover', text: `stopped ${killed} process(es) the job left running` });
}
