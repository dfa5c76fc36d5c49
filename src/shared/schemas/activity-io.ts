/** The activities' inputs and outputs, and the agent's heartbeat: all of it is stored in history, so small and bounded. */
import { z } from 'zod';
import { AgentSpec } from './agents.js';
import { CacheSpec, CriticStep, JobDefaults, JobTimeouts, RuntimeSpec, Step, ValidationStep } from './job.js';
import { AgentUsage, FileChange, QA, ValidationCheck } from './results.js';
import { RunAllowance } from './steering.js';
import { SubtaskRequests } from './subtasks.js';

export const PrepareWorkspaceInput = z.object({
  jobId: z.string(),
  repo: z.string(),
  base: z.string(),
  runtime: RuntimeSpec.optional(),
  include: z.array(z.string()).optional(),
  /**
   * Merge the origin's `into` into the checkout (a job its integration sent back): the worktree holds the
   * merge, conflict markers and all, for the agent to finish.
   */
  merge: z.object({ into: z.string() }).optional(),
  /** Read no .drover.yml: the base is a commit the agent wrote (a sent-back branch, a merged commit). */
  noDefaults: z.boolean().optional(),
  /** The base is a commit this worker's mirror holds (a parent job's snapshot): found there, it needs no fetch. */
  inMirror: z.boolean().optional(),
});
export type PrepareWorkspaceInput = z.infer<typeof PrepareWorkspaceInput>;
export const Workspace = z.object({
  hostQueue: z.string(),
  workerId: z.string(),
  worktree: z.string(),
  branch: z.string(),
  baseCommit: z.string(),
  /** The runtime this worker chose for the job (its default when the job named none); unset: host. */
  runtime: RuntimeSpec.optional(),
  /** Setup, validation, teardown and caches from the repository's .drover.yml over the worker's defaults. */
  defaults: JobDefaults.optional(),
  /** The target's commit merged into the checkout: the job's commit gets it as a second parent. */
  merged: z.string().optional(),
  /** Files the merge left conflict markers in. */
  conflicts: z.array(z.string()).optional(),
});
export type Workspace = z.infer<typeof Workspace>;

export const RunAgentInput = z.object({
  jobId: z.string(),
  worktree: z.string(),
  runtime: RuntimeSpec.optional(),
  agent: AgentSpec,
  prompt: z.string(),
  revision: z.number().int(),
  feedback: z.string().optional(),
  questions: z.array(QA),
  timeouts: JobTimeouts,
  /** Continue this agent session (same job, same worktree) instead of starting afresh. */
  session: z.string().max(200).optional(),
  /**
   * This run carries the answer to the last question: asked through the CLI's own tool ('native', which waits
   * for it in the resumed session) or through .drover/question.json ('file').
   */
  answering: z.enum(['native', 'file']).optional(),
  /** A person's steering messages so far, in order; the last `newMessages` of them reach the agent for the first time. */
  messages: z.array(z.string()).max(20).optional(),
  newMessages: z.number().int().optional(),
  /** What this run may spend before it is stopped (the job's budget, less what it spent). */
  allowance: RunAllowance.optional(),
  /** The session's total as its last run reported it, for CLIs that report totals (the worker's daily count). */
  sessionSpent: AgentUsage.optional(),
  /** Drover's word on the agent's last request (its subtasks' results, or a refusal), for this run only. */
  note: z.string().max(50_000).optional(),
  /** The run answers a subtask's question: what it writes to out/answer.md (or its last message) is the answer. */
  answerer: z.boolean().optional(),
});
export type RunAgentInput = z.infer<typeof RunAgentInput>;
export const RunAgentOutput = z.object({
  outcome: z.enum(['done', 'question', 'subtasks']),
  question: z.string().optional(),
  /** The subtasks the agent asked for (outcome 'subtasks'). */
  subtasks: SubtaskRequests.optional(),
  /** An answerer run's answer. */
  answer: z.string().optional(),
  /** The question came from the CLI's own tool; the answer goes back into the same session. */
  native: z.boolean().optional(),
  exitCode: z.number().int(),
  lastEvent: z.string().nullable(),
  durationMs: z.number().int(),
  sessionId: z.string().max(200).nullable().optional(),
  usage: AgentUsage.optional(),
  /** 'session': the usage is the session's running total (Codex), not this run's own. */
  usageScope: z.enum(['run', 'session']).optional(),
  /** The run was stopped because it spent its allowance. */
  overBudget: z.boolean().optional(),
  /** Steering messages written into the session that the CLI had not taken when the run ended. */
  unconfirmed: z.array(z.string()).optional(),
});
export type RunAgentOutput = z.infer<typeof RunAgentOutput>;

export const ValidateInput = z.object({
  jobId: z.string(),
  worktree: z.string(),
  steps: z.array(ValidationStep),
  runtime: RuntimeSpec.optional(),
});
export type ValidateInput = z.infer<typeof ValidateInput>;

export const SetupInput = z.object({
  jobId: z.string(),
  /** The job's repository: caches are never shared between repositories. */
  repo: z.string(),
  worktree: z.string(),
  baseCommit: z.string(),
  steps: z.array(Step),
  cache: z.array(CacheSpec),
  runtime: RuntimeSpec.optional(),
  /** Restore caches but save none: the tree is one the agent wrote (a sent-back branch, a merged commit). */
  restoreOnly: z.boolean().optional(),
});
export type SetupInput = z.infer<typeof SetupInput>;
export const SetupOutput = z.object({
  checks: z.array(ValidationCheck),
  /** Cache paths restored before setup ran, and saved after it. */
  restored: z.array(z.string()),
  saved: z.array(z.string()),
});
export type SetupOutput = z.infer<typeof SetupOutput>;
export const TeardownInput = z.object({ jobId: z.string(), worktree: z.string(), steps: z.array(Step), runtime: RuntimeSpec.optional() });
export type TeardownInput = z.infer<typeof TeardownInput>;

export const CriticInput = z.object({
  jobId: z.string(),
  worktree: z.string(),
  baseCommit: z.string(),
  critic: CriticStep,
  runtime: RuntimeSpec.optional(),
});
export type CriticInput = z.infer<typeof CriticInput>;

export const CommitInput = z.object({
  jobId: z.string(),
  repo: z.string(),
  worktree: z.string(),
  branch: z.string(),
  baseCommit: z.string(),
  message: z.string(),
  agentKind: z.string(),
  /** The second parent: the target merged into the worktree. */
  merged: z.string().optional(),
});
export type CommitInput = z.infer<typeof CommitInput>;
export const CommitOutput = z.object({
  commit: z.string().nullable(),
  files: z.array(FileChange),
  filesTruncated: z.number().int(),
});
export type CommitOutput = z.infer<typeof CommitOutput>;

export const CleanupInput = z.object({ jobId: z.string(), repo: z.string(), worktree: z.string(), runtime: RuntimeSpec.optional() });
export type CleanupInput = z.infer<typeof CleanupInput>;

/** Heartbeat details: one line of progress, never logs. */
export const AgentHeartbeat = z.object({
  summary: z.string().max(300),
  lines: z.number().int(),
  /** Lets a retried attempt resume the CLI session of the attempt that died. */
  sessionId: z.string().max(200).optional(),
  /** The last few things the agent did, for the handoff note when the session cannot be resumed. */
  recent: z.array(z.string().max(200)).max(5).optional(),
});
export type AgentHeartbeat = z.infer<typeof AgentHeartbeat>;
