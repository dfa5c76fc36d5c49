/**
 * The merge queue: what a job hands its repository's integration workflow, what comes back, and what
 * `drover queue` shows. All of it is in history: bounded, and no logs (a check's output tail at most).
 */
import { z } from 'zod';
import { CacheSpec, IntegrateSpec, RuntimeSpec, Step, ValidationStep } from './job.js';
import { Duration, JobId, RepoLocation } from './primitives.js';

export const Sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a full commit id');

/** One job's commit waiting to land: the steps to re-run come from the job's plan, never from the commit. */
export const IntegrationEntry = z.object({
  jobId: JobId,
  commit: Sha,
  /** The commit the job started from: rebase mode lands only what the job added to it. */
  base: Sha.optional(),
  /** Names this hand-off; the outcome echoes it. */
  ticket: z.string().min(1).max(60),
  agentKind: z.string().max(50),
  mode: IntegrateSpec.shape.mode,
  setup: z.array(Step).max(20),
  validate: z.array(ValidationStep).max(20),
  teardown: z.array(Step).max(20).default([]),
  cache: z.array(CacheSpec).max(10),
  runtime: RuntimeSpec.optional(),
  include: z.array(z.string().max(500)).max(50).optional(),
  /** The job's workflow waits for the outcome; false for a job integrated after it finished. */
  notify: z.boolean(),
  /** The job's bounds on its workers: a worker presumed dead, a task nobody took. */
  timeouts: z.object({ heartbeat: Duration, workerPickup: Duration }).optional(),
});
export type IntegrationEntry = z.infer<typeof IntegrationEntry>;

export const QUEUE_STATUSES = ['queued', 'running', 'integrated', 'sent_back', 'skipped', 'failed'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

/** What the integration workflow tells the job: landed, or sent back with the reason for its agent. */
export const IntegrationOutcome = z.object({
  jobId: z.string(),
  commit: z.string(),
  ticket: z.string(),
  status: z.enum(['integrated', 'sent_back', 'failed']),
  /** The commit on the target. */
  integrated: z.string().optional(),
  /** The target's commit the job's commit conflicted with or failed on. */
  target: z.string().optional(),
  conflicts: z.array(z.string()).max(50).optional(),
  reason: z.string().max(6_500).optional(),
});
export type IntegrationOutcome = z.infer<typeof IntegrationOutcome>;

export interface QueueEntryView {
  jobId: string;
  commit: string;
  status: QueueStatus;
  /** What a running entry is doing: merging, setting up, validating, pushing. */
  step?: string;
  integrated?: string;
  reason?: string;
  /** Tries of a running entry: a lease that failed because the target moved starts a new one. */
  tries?: number;
  enqueuedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface QueueView {
  repo: string;
  into: string;
  entries: QueueEntryView[];
}

/** The integration workflow's argument; continue-as-new carries the queue over. */
export const IntegrationInput = z.object({
  repo: RepoLocation,
  into: IntegrateSpec.shape.into,
  pending: z.array(IntegrationEntry).default([]),
  recent: z.array(z.custom<QueueEntryView>()).default([]),
});
export type IntegrationInput = z.input<typeof IntegrationInput>;

/** The merge step's answer: the commit made on the target, a conflict, or the job already landed. */
export const MergeOutput = z.object({
  status: z.enum(['merged', 'conflict', 'already']),
  target: z.string(),
  commit: z.string().optional(),
  conflicts: z.array(z.string()).max(50).optional(),
  hostQueue: z.string(),
  workerId: z.string(),
});
export type MergeOutput = z.infer<typeof MergeOutput>;
