import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { durationMs } from '../shared/duration.js';
import { AppError } from '../shared/errors.js';
import { processTag } from '../shared/ids.js';
import type { Candidate, RuntimeSpec, SelectStep } from '../shared/schemas.js';
import { selectedIndex } from '../shared/select-winner.js';
import type { ActivityContext } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { placementFor } from './placement.js';
import { killLeftovers } from './steps.js';
import { freshMirror } from './fresh-mirror.js';
import { checkWorktreePath } from './workspace.js';

export interface SelectInput {
  /** The select workspace's id (`<job>.select`), whose worktree the command runs in. */
  jobId: string;
  /** The best-of job, whose log gets the command's output. */
  parentId: string;
  worktree: string;
  select: SelectStep;
  candidates: Candidate[];
  runtime?: RuntimeSpec;
}

/** The command's choice, or why there is none (a failing select is a result: the rule decides then). */
export type SelectOutput = { index: number } | { problem: string };

export interface PublishInput {
  jobId: string;
  repo: string;
  /** The job's own branch, `drover/<job>`. */
  branch: string;
  /** The winner's commit, already in the origin on the winner's branch. */
  commit: string;
}

export function createAttemptActivities(deps: ActivityContext) {
  return {
    runSelect: (input: SelectInput): Promise<SelectOutput> => withHeartbeat(() => runSelect(deps, input)),
    /** Puts the winner on the job's branch, which must not exist yet (or already be the winner: a retry). */
    publishWinner: (input: PublishInput): Promise<void> => withHeartbeat(() => publishWinner(deps, input)),
  };
}

async function runSelect(deps: ActivityContext, input: SelectInput): Promise<SelectOutput> {
  checkWorktreePath(deps, input.jobId, input.worktree);
  const log = deps.jobLog(input.parentId);
  const place = await placementFor(deps, input.jobId, input.worktree, input.runtime);
  const stdout: string[] = [];
  await killLeftovers(place, input.jobId, log);
  log({ source: 'validate', text: `$ ${input.select.command}`, check: 'select' });
  const r = await place.runtime.exec({
    argv: ['bash', '-c', input.select.command],
    cwd: input.worktree,
    env: place.env(),
    stdin: `${JSON.stringify(input.candidates.map((c, index) => ({ index, ...c })))}\n`,
    signal: Context.current().cancellationSignal,
    hardTimeoutMs: durationMs(input.select.timeout),
    tag: processTag(input.jobId),
    onLine: (stream, line) => {
      if (stream === 'stdout') stdout.push(line);
      log({ source: 'validate', stream, text: line, check: 'select' });
    },
  });
  if (r.end === 'cancelled') throw new CancelledFailure('job cancelled during select');
  if (r.end !== 'exit' || r.exitCode !== 0) {
    return {
      problem: `the select command ${r.end === 'exit' ? `exited with ${r.exitCode}` : r.end === 'timeout' ? `timed out after ${input.select.timeout}` : r.end}`,
    };
  }
  const chosen = selectedIndex(stdout, input.candidates);
  log({ source: 'validate', check: 'select', text: 'index' in chosen ? `chose candidate ${chosen.index}` : chosen.problem });
  return chosen;
}

async function publishWinner(deps: ActivityContext, input: PublishInput): Promise<void> {
  // The fetch brings the winner's commit (on its own branch in the origin) into the mirror.
  const { log, source, call, mirror } = await freshMirror(deps, input.jobId, input.repo);
  const current = await deps.git.originBranch(mirror, input.branch, call);
  if (current === input.commit) {
    log({ source: 'git', text: `${input.branch} is already at the winner ${input.commit}` });
    return;
  }
  if (current) {
    throw new AppError('PushRejected', `${input.branch} already exists in the origin (at ${current}); not overwriting it with the winner`);
  }
  // The lease expects the branch to be absent: a branch someone made meanwhile is not overwritten.
  await deps.git.pushCommit(
    { gitdir: mirror, url: source.url, local: source.local, branch: input.branch, sha: input.commit, expected: null },
    call,
  );
  log({ source: 'git', text: `pushed the winner ${input.commit} to ${input.branch}` });
}
