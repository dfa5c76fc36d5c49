/** Subtasks: what an agent asks for, the job's limits on them, and how a child knows its parent. */
import { z } from 'zod';
import { AgentSpec } from './agents.js';
import { JobId } from './primitives.js';

/** The tree's limits; a child inherits them (its `total` is its share of what its parent had left). */
export const SubtaskLimits = z
  .object({
    maxDepth: z.number().int().min(0).max(5).default(2).describe('how deep subtasks may nest (the job is depth 0)'),
    perParent: z.number().int().min(0).max(20).default(5).describe('subtasks one job may start, over all its requests'),
    total: z.number().int().min(0).max(100).default(10).describe('subtasks in the whole tree'),
    askHuman: z.boolean().default(false).describe("a subtask's question goes to a person rather than to its parent's agent"),
  })
  .strict();
export type SubtaskLimits = z.infer<typeof SubtaskLimits>;

/** Set by a parent job on its subtasks. */
export const SubtaskOf = z
  .object({
    parent: JobId,
    depth: z.number().int().min(1).max(6),
    /** The parent's host queue: the child's base (the parent's snapshot) exists only in that worker's mirror. */
    host: z.string().min(1).max(300),
    title: z.string().max(200),
    /** For the parent's agent answering the child's questions. */
    parentPrompt: z.string().max(20_000),
    parentAgent: AgentSpec,
  })
  .strict();
export type SubtaskOf = z.infer<typeof SubtaskOf>;

const KINDS = AgentSpec.options.map((o) => o.shape.kind.value) as [string, ...string[]];

/** One entry of the agent's subtasks file. */
export const SubtaskRequest = z
  .object({
    title: z.string().trim().min(1).max(200),
    prompt: z.string().trim().min(1).max(20_000),
    agent: z.enum(KINDS).optional(),
    validate: z.boolean().optional(),
  })
  .strict();
export type SubtaskRequest = z.infer<typeof SubtaskRequest>;
export const SubtaskRequests = z.array(SubtaskRequest).min(1).max(20);

/** A subtask as the parent's status and result list it. */
export const SubtaskEntry = z.object({
  id: z.string(),
  title: z.string(),
  status: z.string(),
  branch: z.string(),
});
export type SubtaskEntry = z.infer<typeof SubtaskEntry>;

export const SnapshotInput = z.object({ jobId: z.string(), repo: z.string(), worktree: z.string(), baseCommit: z.string() });
export type SnapshotInput = z.infer<typeof SnapshotInput>;
export const SnapshotOutput = z.object({ commit: z.string() });
export type SnapshotOutput = z.infer<typeof SnapshotOutput>;
export const MergeSubtasksInput = z.object({
  jobId: z.string(),
  repo: z.string(),
  worktree: z.string(),
  snapshot: z.string(),
  /** The children's commits, in order; each is on its branch in the origin. */
  commits: z.array(z.string()).max(20),
});
export type MergeSubtasksInput = z.infer<typeof MergeSubtasksInput>;
/** At most 100 conflicted files are listed; `conflictsMore` counts the others. */
export const MergeSubtasksOutput = z.object({
  conflicts: z.array(z.string()).max(1_000),
  conflictsMore: z.number().int().optional(),
});
export type MergeSubtasksOutput = z.infer<typeof MergeSubtasksOutput>;
