/** What a job reports: phases, checks, usage, the result, the status query and the answer signal. */
import { z } from 'zod';
import { JOB_PHASES } from '../phases.js';
import { ANSWER_MAX } from '../answer.js';

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
});
export type JobStatusView = z.infer<typeof JobStatusView>;

/** The answer signal. The workflow checks answers with answerText (answer.ts), which must agree with this. */
export const AnswerPayload = z.object({ text: z.string().trim().min(1, 'must not be empty').max(ANSWER_MAX) });
export type AnswerPayload = z.infer<typeof AnswerPayload>;
