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
  SteeringMessage,
  SubtaskEntry,
  ValidationCheck,
  ValidationRound,
} from '../shared/schemas.js';
import { branchFor } from '../shared/ids.js';
import { agentUsed, phaseChanged } from './job-metrics.js';
import { spendOf } from './budget.js';
import { spendText, usageMinus } from '../shared/spend.js';

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

  /** What the current session had reported before the next run: that run's own spend is its report less this. */
  sessionBaseline(): AgentUsage | null {
    return this.session ? this.sessionUsage : null;
  }
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
  /** A person's steering messages (signal `message`), in order of arrival. */
  readonly messages: SteeringMessage[] = [];
  /** The subtasks its agent started (subtasks.ts), and how many times it asked for some. */
  readonly subtasks: SubtaskEntry[] = [];
  subtaskRequests = 0;
  /** What its children took from the tree's total: each child and the share it was handed. */
  subtasksAllotted = 0;
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

  /** Shows a change other than a phase's in the UI's current details. */
  announce(): void {
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
      ...this.steering(),
      ...this.tree(),
    };
  }

  /** The subtasks, for the status and the result: only when the job has some. */
  tree(): Pick<JobStatusView, 'subtasks'> {
    return this.subtasks.length ? { subtasks: this.subtasks.map((s) => ({ ...s })) } : {};
  }

  /** Messages, budget and spend, for the status and the result: only what the job has. */
  steering(): Pick<JobStatusView, 'messages' | 'budget' | 'spend'> {
    return {
      // Each text is in the history once, in its signal: the status and the result show its start.
      ...(this.messages.length ? { messages: this.messages.map((m) => ({ ...m, text: clipText(m.text, 300) })) } : {}),
      ...(this.job.budget ? { budget: this.job.budget, spend: spendOf(this) } : {}),
    };
  }

  /**
   * Adds one run's usage. Some CLIs report their session's running total instead: then only the growth since
   * the session's last report counts.
   */
  addUsage(reported: AgentUsage, sameSessionTotal: boolean): void {
    const prev = sameSessionTotal ? this.sessionUsage : null;
    this.sessionUsage = reported;
    const u = prev ? usageMinus(reported, prev) : reported;
    agentUsed(this.job.agent.kind, u);
    this.addSpent(u);
  }

  /**
   * Adds what others spent for the job (its subtasks, a parent's agent answering it): their own runs already
   * counted it in the metrics, and it is no part of this job's agent session.
   */
  addSpent(u: AgentUsage): void {
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
    if (this.job.budget) lines.push(`**Spent:** ${spendText(spendOf(this), this.job.budget)}`);
    const waiting = this.messages.filter((m) => m.delivered === null).length;
    if (this.messages.length) lines.push(`**Messages:** ${this.messages.length}${waiting ? ` (${waiting} not yet delivered)` : ''}`);
    for (const t of this.subtasks) lines.push(`**Subtask** \`${t.id}\` (${t.title}): ${t.status}`);
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

const clipText = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
