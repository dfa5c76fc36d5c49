/**
 * zod schemas for everything that crosses Temporal: the job, the activities' inputs and outputs, the status
 * query and the result. They are the single source of the types. Everything here is JSON-plain and bounded,
 * because it is stored in workflow history, which every UI user can read.
 */
import { z } from 'zod';
import { DURATION_PATTERN, durationMs } from './duration.js';
import { JOB_PHASES } from './phases.js';
import { ANSWER_MAX } from './answer.js';
import { gitRefProblem, jobIdProblem } from './ids.js';
import { repoLocationProblem } from './repo-location.js';
import { normalizeRelPath, relPathProblem } from './rel-path.js';

const refineProblem = (problem: (v: string) => string | undefined) => (value: string, ctx: z.RefinementCtx) => {
  const p = problem(value);
  if (p) ctx.addIssue({ code: 'custom', message: p });
};

export const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration such as 90s, 5m or 24h')
  .refine((d) => !DURATION_PATTERN.test(d) || durationMs(d) > 0, 'must be longer than 0');

export const JobId = z.string().superRefine(refineProblem(jobIdProblem));
export const GitRef = z.string().superRefine(refineProblem(gitRefProblem));

/** A local path or a git URL. Never starts with "-" so it cannot be read as an option by git. */
export const RepoLocation = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(1000)
  .refine((v) => !v.startsWith('-'), 'must not start with "-"')
  .refine((v) => !/[\x00-\x1f\x7f]/.test(v), 'must not contain control characters')
  .superRefine(refineProblem(repoLocationProblem));

export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name');

export const CommandAgent = z
  .object({
    kind: z.literal('command'),
    command: z.string().min(1).max(10_000).optional().describe('a shell command, run with bash -c'),
    argv: z.array(z.string().max(10_000)).min(1).max(200).optional().describe('an argv, run without a shell'),
    env: z.record(EnvName, z.string().max(10_000)).default({}).describe('non-secret variables for the agent'),
  })
  .strict()
  .refine((a) => (a.command === undefined) !== (a.argv === undefined), 'give exactly one of command or argv');
export type CommandAgent = z.infer<typeof CommandAgent>;

/**
 * What a job may choose for a CLI agent: only what is safe to let any submitter override. Permission modes,
 * sandboxes, extra arguments and credentials are the worker's to set (config file and environment).
 */
const ModelName = z.string().regex(/^[A-Za-z0-9._:/@-]{1,200}$/, 'must be a model name such as claude-sonnet-4-5 or openai/gpt-5');
const cliAgent = <K extends string>(kind: K) =>
  z
    .object({
      kind: z.literal(kind),
      model: ModelName.optional().describe('the model, when not the worker default'),
      maxTurns: z.number().int().min(1).max(1_000).optional().describe('a cap on the agent turns of one run, where the CLI has one'),
    })
    .strict();

export const ClaudeCodeAgent = cliAgent('claude-code');
export type ClaudeCodeAgent = z.infer<typeof ClaudeCodeAgent>;
export const CodexAgent = cliAgent('codex');
export type CodexAgent = z.infer<typeof CodexAgent>;
export const OpenCodeAgent = cliAgent('opencode');
export type OpenCodeAgent = z.infer<typeof OpenCodeAgent>;
/** mini-swe-agent's `mini` CLI (PyPI mini-swe-agent); `model` is a litellm name such as openai/gpt-5. */
export const MiniSweAgent = cliAgent('mini-swe-agent');
export type MiniSweAgent = z.infer<typeof MiniSweAgent>;
/** OpenHands through its SDK and Drover's driver; `model` is a litellm name. */
export const OpenHandsAgent = cliAgent('openhands');
export type OpenHandsAgent = z.infer<typeof OpenHandsAgent>;

/** Backends are a discriminated union on `kind`; new backends add a member here. */
export const AgentSpec = z.discriminatedUnion('kind', [
  CommandAgent,
  ClaudeCodeAgent,
  CodexAgent,
  OpenCodeAgent,
  MiniSweAgent,
  OpenHandsAgent,
]);
export type AgentSpec = z.infer<typeof AgentSpec>;
export type AgentKind = AgentSpec['kind'];
export const AGENT_KINDS = [
  'command',
  'claude-code',
  'codex',
  'opencode',
  'mini-swe-agent',
  'openhands',
] as const satisfies readonly AgentKind[];

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
    timeouts: JobTimeouts.default(JobTimeouts.parse({})),
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

// ---- activity contracts ----

export const PrepareWorkspaceInput = z.object({
  jobId: z.string(),
  repo: z.string(),
  base: z.string(),
  runtime: RuntimeSpec.optional(),
  include: z.array(z.string()).optional(),
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
});
export type RunAgentInput = z.infer<typeof RunAgentInput>;
export const RunAgentOutput = z.object({
  outcome: z.enum(['done', 'question']),
  question: z.string().optional(),
  /** The question came from the CLI's own tool; the answer goes back into the same session. */
  native: z.boolean().optional(),
  exitCode: z.number().int(),
  lastEvent: z.string().nullable(),
  durationMs: z.number().int(),
  sessionId: z.string().max(200).nullable().optional(),
  usage: AgentUsage.optional(),
  /** 'session': the usage is the session's running total (Codex), not this run's own. */
  usageScope: z.enum(['run', 'session']).optional(),
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
