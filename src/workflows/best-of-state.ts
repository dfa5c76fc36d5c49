/** A best-of-N job's state: its phase, its attempts, and the views of them (status query, the UI's details). */
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { branchFor } from '../shared/ids.js';
import type { JobInput, JobOutcome, JobPhase, JobStatusView } from '../shared/schemas.js';
import { DroverStatus } from '../shared/search-attributes.js';

export interface AttemptRef {
  jobId: string;
  agent: string;
  status: JobOutcome | null;
}

export class BestOfState {
  phase: JobPhase = 'queued';
  readonly attempts: AttemptRef[];
  readonly durationsMs: Record<string, number> = {};
  private phaseStartedAt = Date.now();

  constructor(
    readonly job: JobInput,
    attemptJobs: JobInput[],
  ) {
    this.attempts = attemptJobs.map((a) => ({ jobId: a.id, agent: a.agent.kind, status: null }));
  }

  enter(phase: JobPhase): void {
    const now = Date.now(); // workflow time: deterministic
    this.durationsMs[this.phase] = (this.durationsMs[this.phase] ?? 0) + (now - this.phaseStartedAt);
    this.phaseStartedAt = now;
    if (phase !== this.phase) upsertSearchAttributes([{ key: DroverStatus, value: phase }]);
    this.phase = phase;
    this.showDetails();
  }

  /** An attempt ended. */
  ended(index: number, status: JobOutcome): void {
    const a = this.attempts[index];
    if (a) a.status = status;
    this.showDetails();
  }

  view(): JobStatusView {
    return {
      jobId: workflowInfo().workflowId,
      phase: this.phase,
      attempt: 1,
      revision: 0,
      pendingQuestion: null,
      branch: branchFor(this.job.id),
      baseCommit: null,
      lastAgentEvent: null,
      questions: [],
      worker: null,
      waitingFor: this.phase === 'running_attempts' ? `its attempts (${this.attempts.map((a) => a.jobId).join(', ')})` : null,
      attemptJobs: this.attempts.map((a) => ({ ...a })),
    };
  }

  private showDetails(): void {
    setCurrentDetails(
      [
        `**Phase:** ${this.phase}`,
        `**Branch:** \`${branchFor(this.job.id)}\` (the winner's commit)`,
        '',
        '| attempt | agent | outcome |',
        '|---|---|---|',
        ...this.attempts.map((a) => `| ${a.jobId} | ${a.agent} | ${a.status ?? 'running'} |`),
        '',
        'A question of an attempt is answered on the attempt: `drover answer <attempt> "<text>"`.',
      ].join('\n'),
    );
  }
}
