/** What a person or a planner submits: the job, its steps, runtime, caches and timeouts; and the workflow's argument. */
import { z } from 'zod';
import { normalizeRelPath, relPathProblem } from '../rel-path.js';
import { Duration, EnvName, GitRef, JobId, RepoLocation, refineProblem } from './primitives.js';
import { AgentSpec } from './agents.js';
import { Budget } from './steering.js';
import { JobNotify } from './notify.js';
import { SubtaskLimits, SubtaskOf } from './subtasks.js';

export const HostRuntime = z.object({ kind: z.literal('host') }).strict();
export const DockerRuntime = z
  .object({
    kind: z.literal('docker'),
    image: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]{1,128})?(@sha256:[a-f0-9]{64})?$/,
        'must be an image reference such as drover-agent:latest',
      )
      .max(300)
      .optional()
      .describe("the container image (default: the worker's)"),
    env: z
      .array(EnvName)
      .max(50)
      .default([])
      .describe("names of variables the container gets, with their values from the worker's environment and env files"),
  })
  .strict();
/** Where the agent and the checks run. Unset: the worker's default. */
export const RuntimeSpec = z.discriminatedUnion('kind', [HostRuntime, DockerRuntime]);
export type RuntimeSpec = z.infer<typeof RuntimeSpec>;

export const ValidationStep = z
  .object({
    name: z.string().min(1).max(100),
    command: z.string().min(1).max(10_000),
    timeout: Duration.default('10m'),
  })
  .strict();
export type ValidationStep = z.infer<typeof ValidationStep>;

/**
 * A step of setup (after the checkout, before the agent) or teardown (before cleanup), run like a check:
 * in the worktree, in the job's runtime.
 */
export const Step = ValidationStep;
export type Step = ValidationStep;
/** A step may be written as a bare command; its name is then the command itself. */
const StepOrCommand = z.union([
  z
    .string()
    .min(1)
    .max(10_000)
    .transform((command) => ({ name: command.length > 60 ? `${command.slice(0, 57)}...` : command, command, timeout: '10m' })),
  Step,
]);
const Steps = z.array(StepOrCommand).max(20);

const RelPath = z
  .string()
  .superRefine(refineProblem((p) => relPathProblem(p)))
  .transform(normalizeRelPath);
const RelGlob = z
  .string()
  .superRefine(refineProblem((p) => relPathProblem(p, { glob: true })))
  .transform(normalizeRelPath);

/**
 * A dependency cache: `paths` (what setup makes, such as node_modules) saved after a successful setup under
 * a name made from the content of the `key` files at the base commit, and restored into later jobs before
 * their setup runs.
 */
export const CacheSpec = z
  .object({
    key: z.array(RelPath).min(1).max(10).describe('files whose content at the base commit names the cache, e.g. package-lock.json'),
    paths: z.array(RelPath).min(1).max(10).describe('what setup produces, e.g. node_modules'),
  })
  .strict();
export type CacheSpec = z.infer<typeof CacheSpec>;
const Caches = z.array(CacheSpec).max(10);

/**
 * What a repository's .drover.yml (read from the base commit) and a worker's config may supply for jobs that
 * name none. Only steps that run in the job's own runtime, and caches of the worktree: nothing here reaches
 * the worker, its credentials or other repositories.
 */
export const JobDefaults = z
  .object({ setup: Steps.optional(), validate: Steps.optional(), teardown: Steps.optional(), cache: Caches.optional() })
  .strict();
export type JobDefaults = z.infer<typeof JobDefaults>;

export const CriticStep = z.object({ command: z.string().min(1).max(10_000), timeout: Duration.default('10m') }).strict();
export type CriticStep = z.infer<typeof CriticStep>;

export const JobTimeouts = z
  .object({
    agentIdle: Duration.optional().describe("kill the agent when it prints nothing for this long (default: the backend's, 5m)"),
    agentHard: Duration.default('1h').describe('kill the agent when one run takes this long'),
    heartbeat: Duration.default('30s').describe('a worker that stops heartbeating this long is presumed dead'),
    humanAnswer: Duration.default('24h').describe('how long a question waits for an answer'),
    workerPickup: Duration.default('5m').describe('how long a task waits for the worker holding the worktree'),
  })
  .strict();
export type JobTimeouts = z.infer<typeof JobTimeouts>;

/**
 * Where a finished job lands: its integration workflow (one per repository and target branch) takes the job's
 * commit onto the latest target, re-validates it, and pushes the target forward with a lease.
 */
export const IntegrateSpec = z
  .object({
    into: GitRef.refine(
      (r) => r !== 'HEAD' && !r.startsWith('refs/') && !r.startsWith('drover/'),
      'must be a branch name such as main, not a job branch',
    ).describe('the branch the job lands on'),
    mode: z.enum(['rebase', 'merge']).default('rebase').describe('rebase: one linear commit on the target; merge: a merge commit'),
  })
  .strict();
export type IntegrateSpec = z.infer<typeof IntegrateSpec>;

/** An attempt's agent: a full agent, or a CLI agent's bare kind (`codex`), with the worker's settings for the rest. */
const AttemptAgent = z.preprocess((a) => (typeof a === 'string' ? { kind: a } : a), AgentSpec);

/**
 * Best of N: the job runs as that many attempts in parallel (each an ordinary job, id `<id>.<n>`) and the
 * best one's commit goes on `drover/<id>`. A number repeats the job's agent; `agents` gives one attempt per agent.
 */
export const AttemptsSpec = z.union([z.number().int().min(1).max(8), z.object({ agents: z.array(AttemptAgent).min(1).max(8) }).strict()]);
export type AttemptsSpec = z.infer<typeof AttemptsSpec>;

/** Replaces the winner rule: the candidates as JSON on stdin, the winner's index on stdout; run like a check. */
export const SelectStep = CriticStep;
export type SelectStep = CriticStep;

/** What a person or a planner submits. `id` is optional here; the client fills it in. */
export const JobSpec = z
  .object({
    id: JobId.optional(),
    repo: RepoLocation,
    base: GitRef.default('HEAD'),
    prompt: z
      .string()
      .max(100_000, 'must be at most 100,000 characters')
      .refine((p) => p.trim().length > 0, 'must not be empty'),
    agent: AgentSpec,
    runtime: RuntimeSpec.optional(),
    validate: z.array(ValidationStep).max(20).default([]),
    setup: Steps.optional().describe('run after the checkout and before the agent (default: .drover.yml, then the worker config)'),
    teardown: Steps.optional().describe('run before cleanup, also after a failure; best effort'),
    cache: Caches.optional().describe('dependency caches restored before setup and saved after it'),
    include: z
      .array(RelGlob)
      .max(50)
      .optional()
      .describe("ignored files copied from a local repository's working tree into the worktree (e.g. .env.local); never committed"),
    critic: CriticStep.optional(),
    maxRevisions: z.number().int().min(0).max(10).default(2),
    commitMessage: z
      .string()
      .min(1)
      .max(5_000)
      .refine((m) => !m.includes('\0'), 'must not contain NUL characters')
      .optional(),
    maxWorkerRestarts: z.number().int().min(0).max(5).default(2),
    integrate: IntegrateSpec.optional().describe('land the commit on a branch once the job succeeds'),
    attempts: AttemptsSpec.optional().describe('best of N: run the job as parallel attempts (1-8) and keep the best'),
    select: SelectStep.optional().describe('with attempts: a command that picks the winner instead of the rule'),
    attemptOf: JobId.optional().describe(
      'set by a best-of-N job on its attempts: an attempt whose checks or critic still fail commits its work all the same',
    ),
    timeouts: JobTimeouts.default(JobTimeouts.parse({})),
    budget: Budget.optional().describe('what the job may spend over all its runs: usd, tokens, turns, wallTime'),
    notify: JobNotify.optional().describe('webhooks for this job (url and events; no secrets: job inputs are visible in the UI)'),
    subtasks: SubtaskLimits.optional().describe('limits on the subtasks an agent may start: maxDepth, perParent, total, askHuman'),
    subtaskOf: SubtaskOf.optional().describe('set by a parent job on its subtasks'),
  })
  .strict();
export type JobSpecInput = z.input<typeof JobSpec>;
export type JobSpec = z.infer<typeof JobSpec>;

/** The workflow's one argument: a parsed job with its id. */
export const JobInput = JobSpec.extend({ id: JobId });
export type JobInput = z.infer<typeof JobInput>;

/** The workflow's argument parsed, or why it is not a job (zod's issues, one per line). */
export function parseJobInput(raw: unknown): { ok: true; job: JobInput } | { ok: false; message: string } {
  const parsed = JobInput.safeParse(raw);
  return parsed.success ? { ok: true, job: parsed.data } : { ok: false, message: z.prettifyError(parsed.error) };
}
