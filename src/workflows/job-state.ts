import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { DroverStatus } from '../shared/search-attributes.js';
import type { JobInput, JobPhase, JobStatusView, QA, ValidationRound } from '../shared/schemas.js';
import { branchFor } from '../shared/ids.js';

/** The workflow's mutable state; the status query and the UI's current details are views of it. */
export class JobState {
  phase: JobPhase = 'queued';
  attempt = 1;
  revision = 0;
  pendingQuestion: string | null = null;
  pendingAnswer: string | null = null;
  baseCommit: string | null = null;
  worker: string | null = null;
  lastAgentEvent: string | null = null;
  readonly questions: QA[] = [];
  readonly rounds: ValidationRound[] = [];
  readonly durationsMs: Record<string, number> = {};
  private phaseStartedAt = Date.now();

  constructor(readonly job: JobInput) {}

  enter(phase: JobPhase): void {
    const now = Date.now(); // workflow time: deterministic
    this.durationsMs[this.phase] = (this.durationsMs[this.phase] ?? 0) + (now - this.phaseStartedAt);
    this.phaseStartedAt = now;
    if (phase !== this.phase) upsertSearchAttributes([{ key: DroverStatus, value: phase }]);
    this.phase = phase;
    setCurrentDetails(this.details());
  }

  view(): JobStatusView {
    return {
      jobId: workflowInfo().workflowId,
      phase: this.phase,
      attempt: this.attempt,
      revision: this.revision,
      pendingQuestion: this.pendingQuestion,
      branch: branchFor(this.job.id),
      baseCommit: this.baseCommit,
      lastAgentEvent: this.lastAgentEvent,
      questions: [...this.questions],
      worker: this.worker,
    };
  }

  private details(): string {
    const lines = [
      `**Phase:** ${this.phase}`,
      `**Attempt:** ${this.attempt} · **Revision:** ${this.revision}/${this.job.maxRevisions}`,
      `**Branch:** \`${branchFor(this.job.id)}\``,
    ];
    if (this.worker) lines.push(`**Worker:** ${this.worker}`);
    if (this.pendingQuestion) {
      lines.push('', '### Waiting for an answer', '', this.pendingQuestion, '',
        'Answer with `drover answer <job> "<text>"` or signal `answer` with `{"text": "..."}`.');
    }
    return lines.join('\n');
  }
}
