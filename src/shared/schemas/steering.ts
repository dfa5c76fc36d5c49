/** Steering messages and budgets: what a person adds to a running job, and what a job may spend. */
import { z } from 'zod';
import { MESSAGE_MAX } from '../message.js';
import { Duration } from './primitives.js';

export const MessagePayload = z.object({ text: z.string().trim().min(1, 'must not be empty').max(MESSAGE_MAX) });
export type MessagePayload = z.infer<typeof MessagePayload>;

/** A message a person sent to the job, and how it reached the agent: into its live session, or in a run's prompt. */
export const SteeringMessage = z.object({
  text: z.string(),
  /** Workflow time it arrived (ISO). */
  at: z.string(),
  delivered: z.enum(['live', 'prompt']).nullable(),
});
export type SteeringMessage = z.infer<typeof SteeringMessage>;

/**
 * What a job may spend, over every attempt, revision, answer and subtask. Tokens are input plus output.
 * A limit reached stops the job: no new agent run, and a running one is stopped.
 */
export const Budget = z
  .object({
    usd: z.number().positive().max(100_000).optional().describe('model cost in US dollars, as the agent CLI reports it'),
    tokens: z.number().int().positive().optional().describe('input plus output tokens'),
    turns: z.number().int().positive().max(100_000).optional().describe("the agent's model turns"),
    wallTime: Duration.optional().describe('time since the job started'),
    wip: z.boolean().default(false).describe('commit the work so far on the job branch when the budget runs out'),
  })
  .strict();
export type Budget = z.infer<typeof Budget>;

/** What the job has spent, against its budget. */
export const BudgetSpend = z.object({
  usd: z.number().nullable(),
  tokens: z.number().int(),
  turns: z.number().int(),
  wallTimeMs: z.number().int(),
});
export type BudgetSpend = z.infer<typeof BudgetSpend>;

/** What one agent run may still spend: the runtime stops the CLI when it has spent it. */
export const RunAllowance = z.object({
  tokens: z.number().int().optional(),
  usd: z.number().optional(),
  turns: z.number().int().optional(),
  wallMs: z.number().int().optional(),
});
export type RunAllowance = z.infer<typeof RunAllowance>;

export const SteerInput = z.object({ jobId: z.string(), text: z.string() });
export type SteerInput = z.infer<typeof SteerInput>;
/** `delivered`: written into the running CLI's session; false when no run on this worker takes input now. */
export const SteerOutput = z.object({ delivered: z.boolean() });
export type SteerOutput = z.infer<typeof SteerOutput>;
