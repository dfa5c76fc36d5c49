/** What a job reports: phases, checks, usage, the result, the status query and the answer signal. */
import { z } from 'zod';
import { JOB_PHASES } from '../phases.js';
import { ANSWER_MAX } from '../answer.js';
import { JobDefaults, RuntimeSpec } from './job.js';
import { Budget, BudgetSpend, SteeringMessage } from './steering.js';
import { SubtaskEntry } from './subtasks.js';

export { JOB_PHASES };
export const JobPhase = z.enum(JOB_PHASES);
export type JobPhase = z.infer<typeof JobPhase>;

export const QA = z.object({ question: z.string(), answer: z.string() });
export type QA = z.infer<typeof QA>;

export const ValidationCheck = z.object({
  name: z.string(),
  passed: z.boolean(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  outputTail: z.string(),
  timedOut: z.boolean(),
});
export type ValidationCheck = z.infer<typeof ValidationCheck>;

export const CriticVerdict = z.object({ approve: z.boolean(), comments: z.string().max(4_000).default('') });
export type CriticVerdict = z.infer<typeof CriticVerdict>;

export const ValidationRound = z.object({
  revision: z.number().int(),
  checks: z.array(ValidationCheck),
  critic: CriticVerdict.optional(),
});
export type ValidationRound = z.infer<typeof ValidationRound>;

export const AgentUsage = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cachedInputTokens: z.number().int(),
  costUsd: z.number().nullable(),
  turns: z.number().int(),
});
export type AgentUsage = z.infer<typeof AgentUsage>;
export const NO_USAGE: AgentUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: null, turns: 0 };

export const FileChange = z.object({ path: z.string(), added: z.number().int().nullable(), deleted: z.number().int().nullable() });
export type FileChange = z.infer<typeof FileChange>;

export const JobOutcome = z.enum(['succeeded', 'failed', 'no_changes', 'cancelled']);
export type JobOutcome = z.infer<typeof JobOutcome>;

/** Where the job's commit stands in its integration (the merge queue of its repository and target). */
export const JobIntegration = z.object({
  into: z.string(),
  status: z.enum(['queued', 'integrated', 'sent_back', 'skipped', 'failed']),
  /** The commit on the target, once integrated. */
  commit: z.string().optional(),
  /** Why it was sent back, skipped or failed. */
  reason: z.string().max(2_000).optional(),
  /** How often it went back to the agent. */
  sentBack: z.number().int(),
});
export type JobIntegration = z.infer<typeof JobIntegration>;

/** One attempt of a best-of-N job, as its result lists it (the index in `candidates` is the one `winner` names). */
export const Candidate = z.object({
  /** The attempt's own job id, `<id>.<n>`; its branch is `drover/<id>.<n>`. */
  jobId: z.string(),
  agent: z.string(),
  model: z.string().optional(),
  status: JobOutcome,
  /** The checks of the attempt's last validation round. */
  checks: z.object({ passed: z.number().int(), failed: z.number().int() }),
  /** The critic's verdict on the last round; null when it did not review. */
  approved: z.boolean().nullable(),
  /** Lines added and deleted (a file without line counts, such as a binary one, counts 1). */
  diff: z.number().int(),
  files: z.number().int(),
  usage: AgentUsage.optional(),
  branch: z.string(),
  commit: z.string().nullable(),
  /** Order of completion in workflow time: 1 finished first. */
  finished: z.number().int(),
  failure: z.object({ type: z.string(), message: z.string() }).optional(),
});
export type Candidate = z.infer<typeof Candidate>;

/** How the winner was chosen: the rule, or the job's select command (and why it was not, when it failed). */
export const Selection = z.object({ by: z.enum(['rule', 'select']), note: z.string().max(2_000).optional() });
export type Selection = z.infer<typeof Selection>;

export const JobResult = z.object({
  status: JobOutcome,
  branch: z.string(),
  commit: z.string().nullable(),
  baseCommit: z.string().nullable(),
  files: z.array(FileChange),
  filesTruncated: z.number().int(),
  validations: z.array(ValidationRound),
  /** The setup steps' results, when the job had any. */
  setup: z.array(ValidationCheck).optional(),
  revisions: z.number().int(),
  questions: z.array(QA),
  attempts: z.number().int(),
  durationsMs: z.record(z.string(), z.number()),
  /** The agent CLI's own session (Claude session, Codex thread, OpenCode session), for `--resume` by hand. */
  agentSession: z.string().nullable().optional(),
  usage: AgentUsage.optional(),
  failure: z.object({ type: z.string(), message: z.string() }).optional(),
  integration: JobIntegration.optional(),
  /** Where its checks ran (the runtime its worker chose), and the .drover.yml and worker defaults it followed. */
  runtime: RuntimeSpec.optional(),
  defaults: JobDefaults.optional(),
  /** Best of N: every attempt, and the index of the one whose commit is on the job's branch (null: none won). */
  candidates: z.array(Candidate).optional(),
  winner: z.number().int().nullable().optional(),
  selection: Selection.optional(),
  /** A person's steering messages, and how each reached the agent. */
  messages: z.array(SteeringMessage).optional(),
  budget: Budget.optional(),
  spend: BudgetSpend.optional(),
  /** The subtasks its agent started, each a job of its own (query its status for its own subtasks). */
  subtasks: z.array(SubtaskEntry).optional(),
});
export type JobResult = z.infer<typeof JobResult>;

export const JobStatusView = z.object({
  jobId: z.string(),
  phase: JobPhase,
  attempt: z.number().int(),
  revision: z.number().int(),
  pendingQuestion: z.string().nullable(),
  branch: z.string(),
  baseCommit: z.string().nullable(),
  lastAgentEvent: z.string().nullable(),
  questions: z.array(QA),
  worker: z.string().nullable(),
  /** What the job is waiting for when it is not running (a worker with its backend, an answer). */
  waitingFor: z.string().nullable().optional(),
  /** The task queue the job's first activity waits on, while it waits. */
  waitingQueue: z.string().nullable().optional(),
  agentSession: z.string().nullable().optional(),
  integration: JobIntegration.optional(),
  /** Best of N: the attempts, each an ordinary job (query its own status for its phase and question). */
  attemptJobs: z.array(z.object({ jobId: z.string(), agent: z.string(), status: JobOutcome.nullable() })).optional(),
  messages: z.array(SteeringMessage).optional(),
  budget: Budget.optional(),
  spend: BudgetSpend.optional(),
  subtasks: z.array(SubtaskEntry).optional(),
});
export type JobStatusView = z.infer<typeof JobStatusView>;

/** The answer signal. The workflow checks answers with answerText (answer.ts), which must agree with this. */
export const AnswerPayload = z.object({ text: z.string().trim().min(1, 'must not be empty').max(ANSWER_MAX) });
export type AnswerPayload = z.infer<typeof AnswerPayload>;
