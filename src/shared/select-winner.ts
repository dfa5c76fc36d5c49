/**
 * The winner of a best-of-N job. Pure and workflow-safe: the parent workflow runs it on its attempts' results.
 *
 * The rule: only an attempt with a commit and every check of its last validation round passed can win (one
 * its critic still rejected committed all the same: it can win, after every approved one).
 * Among those, the critic's approval of the last round counts first, then the smallest diff, then the
 * earliest finish. A job's `select` command may choose instead; its choice must be one that could win.
 */
import { branchFor } from './ids.js';
import type { AgentSpec, Candidate, FileChange, JobOutcome, JobResult } from './schemas.js';

/** How an attempt ended: its result, or (its workflow failed or was cancelled) the failure. */
export type AttemptEnd =
  | { result: JobResult }
  | { status: Extract<JobOutcome, 'failed' | 'cancelled'>; failure: { type: string; message: string } };

/** Lines added and deleted; a file without counts (binary) counts 1, and so does each file past the list. */
export function diffSize(files: FileChange[], truncated = 0): number {
  return files.reduce((sum, f) => sum + (f.added === null || f.deleted === null ? 1 : f.added + f.deleted), truncated);
}

/** The candidate an attempt makes; `finished` is its place in the order of completion (1: first). */
export function candidateOf(jobId: string, agent: AgentSpec, end: AttemptEnd, finished: number): Candidate {
  const model = 'model' in agent && agent.model ? { model: agent.model } : {};
  const base = { jobId, agent: agent.kind, ...model, branch: branchFor(jobId), finished };
  if (!('result' in end)) {
    return {
      ...base,
      status: end.status,
      checks: { passed: 0, failed: 0 },
      approved: null,
      diff: 0,
      files: 0,
      commit: null,
      failure: end.failure,
    };
  }
  const r = end.result;
  const last = r.validations.at(-1);
  const passed = last?.checks.filter((c) => c.passed).length ?? 0;
  return {
    ...base,
    status: r.status,
    checks: { passed, failed: (last?.checks.length ?? 0) - passed },
    approved: last?.critic ? last.critic.approve : null,
    diff: diffSize(r.files, r.filesTruncated),
    files: r.files.length + r.filesTruncated,
    ...(r.usage ? { usage: r.usage } : {}),
    branch: r.branch,
    commit: r.commit,
    ...(r.failure ? { failure: r.failure } : {}),
  };
}

/** Whether a candidate may win at all. */
export const canWin = (c: Candidate): boolean =>
  (c.status === 'succeeded' || c.failure?.type === 'CriticRejected') && c.commit !== null && c.checks.failed === 0;

/** The index of the winner by the rule, or null when no candidate can win. */
export function pickWinner(candidates: readonly Candidate[]): number | null {
  let best: number | null = null;
  candidates.forEach((c, i) => {
    if (!canWin(c)) return;
    if (best === null || better(c, candidates[best]!)) best = i;
  });
  return best;
}

function better(a: Candidate, b: Candidate): boolean {
  const approvedA = a.approved === true;
  const approvedB = b.approved === true;
  if (approvedA !== approvedB) return approvedA;
  if (a.diff !== b.diff) return a.diff < b.diff;
  return a.finished < b.finished;
}

/**
 * The select command's choice, from its stdout: the last line that is a bare integer. It must name a
 * candidate that can win; otherwise `problem` says why and the rule decides.
 */
export function selectedIndex(stdoutLines: readonly string[], candidates: readonly Candidate[]): { index: number } | { problem: string } {
  const line = [...stdoutLines].reverse().find((l) => /^\s*-?\d+\s*$/.test(l));
  if (line === undefined) return { problem: 'the select command printed no index' };
  const index = Number(line.trim());
  const c = candidates[index];
  if (!c) return { problem: `the select command printed ${index}, not the index of a candidate (0-${candidates.length - 1})` };
  if (!canWin(c)) return { problem: `the select command chose candidate ${index}, which cannot win (${c.status})` };
  return { index };
}

/** Which candidates ended how, for a message: "2 failed, 1 no_changes". */
export function outcomeCounts(candidates: readonly Candidate[]): string {
  const counts = new Map<string, number>();
  for (const c of candidates) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}
