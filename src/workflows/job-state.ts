import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { DroverStatus } from '../shared/search-attributes.js';
import type {
  AgentUsage,
  IntegrationOutcome,
  JobDefaults,
  JobInput,
  JobIntegration,
  JobPhase,
  JobStatusView,
  QA,
  RuntimeSpec,
  ValidationCheck,
  ValidationRound,
} from '../shared/schemas.js';
import { branchFor } from '../shared/ids.js';
import { agentUsed, phaseChanged } from './job-metrics.js';

/** How a workflow type runs the job code (agent-job.ts): which changes apply, and what it records. */
export interface JobStyle {
  /** Whether a change applies, by its patch id: patched() for runs that began before it, or always. */
  has(change: string): boolean;
  /** The input is parsed by a local activity rather than in the sandbox. */
  inputByActivity: boolean;
  /** No search attribute the client already set at start is set again, nor cleaning_up once the outcome is known. */
  lean: boolean;
}

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
  waitingFor: string | null = null;
  waitingQueue: string | null = null;
  /** The agent CLI's session in the current attempt's worktree. */
  session: string | null = null;
  usage: AgentUsage | null = null;
  /** The last running total reported by a session-total CLI. */
  private sessionUsage: AgentUsage | null = null;
  /** The setup steps' results, once they ran. */
  setup: ValidationCheck[] | null = null;
  /** The repository's and worker's defaults as the job's first checkout found them (undefined: none yet). */
  defaults: JobDefaults | null | undefined = undefined;
  /** The runtime the job's host chose: its integration re-validates in the same one. */
  runtime: RuntimeSpec | null = null;
  integration: JobIntegration | null = null;
  /** The integration workflow's last word on the job's commit, by signal. */
  integrationOutcome: IntegrationOutcome | null = null;
  /** Hand-offs to the merge queue so far: each outcome names its ticket, so a stale one is never taken for the next. */
  tickets = 0;
  readonly questions: QA[] = [];
  readonly rounds: ValidationRound[] = [];
  readonly durationsMs: Record<string, number> = {};
  private phaseStartedAt = Date.now();

  constructor(
    readonly job: JobInput,
    readonly style: JobStyle,
  ) {}

  /** Moves to a phase; `announce: false` leaves DroverStatus as it is. */
  enter(phase: JobPhase, announce = true): void {
    const now = Date.now(); // workflow time: deterministic
    phaseChanged(this.job.agent.kind, this.phase, phase, now - this.phaseStartedAt, this.pendingQuestion !== null);
    this.durationsMs[this.phase] = (this.durationsMs[this.phase] ?? 0) + (now - this.phaseStartedAt);
    this.phaseStartedAt = now;
    if (phase !== this.phase && announce) upsertSearchAttributes([{ key: DroverStatus, value: phase }]);
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
      waitingFor: this.pendingQuestion ? 'an answer to the pending question' : this.waitingFor,
      waitingQueue: this.waitingQueue,
      agentSession: this.session,
      ...(this.integration ? { integration: this.integration } : {}),
    };
  }

  /**
   * Adds one run's usage. Some CLIs report their session's running total instead: then only the growth since
   * the session's last report counts.
   */
  addUsage(reported: AgentUsage, sameSessionTotal: boolean): void {
    const prev = sameSessionTotal ? this.sessionUsage : null;
    this.sessionUsage = reported;
    const u = prev ? minus(reported, prev) : reported;
    agentUsed(this.job.agent.kind, u);
    const t = this.usage;
    this.usage = t
      ? {
          inputTokens: t.inputTokens + u.inputTokens,
          outputTokens: t.outputTokens + u.outputTokens,
          cachedInputTokens: t.cachedInputTokens + u.cachedInputTokens,
          costUsd: t.costUsd === null && u.costUsd === null ? null : (t.costUsd ?? 0) + (u.costUsd ?? 0),
          turns: t.turns + u.turns,
        }
      : { ...u };
  }

  private details(): string {
    const lines = [
      `**Phase:** ${this.phase}`,
      `**Attempt:** ${this.attempt} · **Revision:** ${this.revision}/${this.job.maxRevisions}`,
      `**Branch:** \`${branchFor(this.job.id)}\``,
    ];
    if (this.worker) lines.push(`**Worker:** ${this.worker}`);
    if (this.integration) lines.push(`**Integration into \`${this.integration.into}\`:** ${this.integration.status}`);
    if (this.waitingFor && this.phase === 'preparing') lines.push(`**Waiting for:** ${this.waitingFor}`);
    if (this.pendingQuestion) {
      lines.push(
        '',
        '### Waiting for an answer',
        '',
        this.pendingQuestion,
        '',
        'Answer with `drover answer <job> "<text>"` or signal `answer` with `{"text": "..."}`.',
      );
    }
    return lines.join('\n');
  }
}

function minus(a: AgentUsage, b: AgentUsage): AgentUsage {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    cachedInputTokens: Math.max(0, a.cachedInputTokens - b.cachedInputTokens),
    costUsd: a.costUsd === null ? null : Math.max(0, a.costUsd - (b.costUsd ?? 0)),
    // Turns are counted per run by every backend.
    turns: a.turns,
  };
}
