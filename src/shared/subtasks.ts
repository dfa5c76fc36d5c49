/**
 * Subtasks as child jobs: the limits on a request and each child's job. Pure and workflow-safe (types only
 * from the schemas).
 *
 * A child's id is `<parent>.s<n>` and its branch `drover/<parent>.s<n>`: git cannot hold both `drover/<id>`
 * and refs under it. The tree's `total` is enforced without the tree talking to itself: each parent hands
 * what it has left, after its own children, to them in equal shares.
 */
import type { JobPlan } from './job-plan.js';
import { durationMs } from './duration.js';
import type { AgentSpec, Budget, BudgetSpend, JobInput, SubtaskLimits, SubtaskRequest } from './schemas.js';

export const DEFAULT_SUBTASK_LIMITS: SubtaskLimits = { maxDepth: 2, perParent: 5, total: 10, askHuman: false };

export const subtaskJobId = (parent: string, n: number): string => `${parent}.s${n}`;

export const limitsOf = (job: Pick<JobInput, 'subtasks'>): SubtaskLimits => ({ ...DEFAULT_SUBTASK_LIMITS, ...job.subtasks });
export const depthOf = (job: Pick<JobInput, 'subtaskOf'>): number => job.subtaskOf?.depth ?? 0;

/**
 * Why the request is refused (the agent reads it), or undefined; `started`: subtasks this job started before;
 * `allotted`: what its earlier requests took from the tree's total (each child, and the share it was handed).
 */
export function subtaskRefusal(
  job: Pick<JobInput, 'subtasks' | 'subtaskOf'>,
  started: number,
  asked: number,
  allotted = 0,
): string | undefined {
  const limits = limitsOf(job);
  const depth = depthOf(job);
  const refused = `Drover refused your request for ${asked} subtask(s)`;
  if (depth + 1 > limits.maxDepth) {
    return `${refused}: subtasks may nest at most ${limits.maxDepth} level(s) deep, and this job is at depth ${depth}. Do the work yourself.`;
  }
  const left = Math.min(limits.perParent - started, limits.total - allotted);
  if (asked > left) {
    const why =
      limits.perParent - started <= limits.total - allotted
        ? `a job may start at most ${limits.perParent} subtask(s) and this one started ${started}`
        : `the job tree may have at most ${limits.total - allotted} more subtask(s) here`;
    return `${refused}: ${why}; ${Math.max(0, left)} more may be started. Ask for fewer, or do the work yourself.`;
  }
  return undefined;
}

/** What a child takes from the tree's total: itself, and the share it may hand its own children. */
export const allottedBy = (children: JobInput[]): number => children.reduce((n, c) => n + 1 + (c.subtasks?.total ?? 0), 0);

/**
 * Refuses an agent kind the parent's host may not be set up for: a command agent is a command line, which a
 * request cannot carry, so a child may be one only as its parent's own.
 */
export function agentRefusal(job: Pick<JobInput, 'agent'>, reqs: Pick<SubtaskRequest, 'agent'>[]): string | undefined {
  const bad = reqs.find((r) => r.agent === 'command' && job.agent.kind !== 'command');
  if (!bad) return undefined;
  return `Drover refused your request: a subtask cannot ask for the "command" agent (it needs a command line); leave "agent" out to use your own agent (${job.agent.kind}), or name another kind.`;
}

/**
 * Each child's budget: an equal share of what the parent has left of its tokens, dollars and turns, and what
 * is left of its wall time (the children run side by side). Undefined when the parent has none.
 */
export function budgetShare(budget: Budget | undefined, spent: BudgetSpend, n: number): Budget | undefined {
  if (!budget) return undefined;
  const share: Budget = { wip: budget.wip };
  if (budget.tokens !== undefined) share.tokens = Math.max(1, Math.floor((budget.tokens - spent.tokens) / n));
  if (budget.usd !== undefined) share.usd = Math.max(0.0001, (budget.usd - (spent.usd ?? 0)) / n);
  if (budget.turns !== undefined) share.turns = Math.max(1, Math.floor((budget.turns - spent.turns) / n));
  if (budget.wallTime !== undefined) {
    share.wallTime = `${Math.max(1, Math.ceil((durationMs(budget.wallTime) - spent.wallTimeMs) / 1000))}s`;
  }
  return share;
}

/** The parent's job for its children: what they inherit, less what only the parent does. */
type ChildBase = Omit<JobInput, 'id' | 'attempts' | 'select' | 'integrate' | 'attemptOf' | 'notify' | 'subtaskOf'>;

/**
 * Each requested child's job, numbered after the `started` ones: based on `snapshot` (prepared on the
 * parent's `host`), with the parent's steps as its `plan` resolved them (the snapshot's .drover.yml is the
 * agent's to write, so it is never read), its checks unless it asked for none, and its share of the total.
 */
export function subtaskJobs(
  job: JobInput,
  reqs: SubtaskRequest[],
  at: { started: number; snapshot: string; host: string; plan: JobPlan; allotted?: number; budget?: Budget },
): JobInput[] {
  const { id: _id, attempts: _a, select: _s, integrate: _i, attemptOf: _o, notify: _n, subtaskOf: _p, budget: _b, ...rest } = job;
  const limits = limitsOf(job);
  const shares = splitTotal(limits.total - (at.allotted ?? 0) - reqs.length, reqs.length);
  return reqs.map((req, i) => {
    const base: ChildBase = rest;
    return {
      ...base,
      id: subtaskJobId(job.id, at.started + i + 1),
      base: at.snapshot,
      prompt: req.prompt,
      agent: agentFor(job.agent, req.agent),
      setup: at.plan.setup,
      validate: req.validate === false ? [] : at.plan.validate,
      teardown: at.plan.teardown,
      cache: at.plan.cache,
      commitMessage: req.title,
      ...(at.budget ? { budget: at.budget } : {}),
      subtasks: { ...limits, total: shares[i] ?? 0 },
      subtaskOf: {
        parent: job.id,
        depth: depthOf(job) + 1,
        host: at.host,
        title: req.title,
        parentPrompt: job.prompt.slice(0, 20_000),
        parentAgent: job.agent,
      },
    };
  });
}

/** The parent's own agent for its kind; another kind with the worker's settings. */
function agentFor(parent: AgentSpec, kind: string | undefined): AgentSpec {
  if (kind === undefined || kind === parent.kind) return parent;
  return { kind } as AgentSpec;
}

function splitTotal(left: number, n: number): number[] {
  const each = Math.floor(Math.max(0, left) / n);
  const extra = Math.max(0, left) - each * n;
  return Array.from({ length: n }, (_, i) => each + (i < extra ? 1 : 0));
}

/** The prompt of the parent's agent answering a child's question. */
export function answererPrompt(parentPrompt: string, child: { title: string; prompt: string }, question: string): string {
  return [
    'You are answering a question from a subtask you delegated. Do not change any files.',
    `## Your task\n\n${parentPrompt.trim()}`,
    `## The subtask: ${child.title}\n\n${child.prompt.trim()}`,
    `## Its question\n\n${question.trim()}`,
    '## How to answer\n\nWrite only the answer to the file $DROVER_OUTPUT_DIR/answer.md, or end with it as your last message.',
  ].join('\n\n');
}
