/** Drover's client API: what the CLI, planners and tests use to submit and follow jobs. */
import { resolve } from 'node:path';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import { oneLine } from './config/load.js';
import type { DroverConfig } from './config/schema.js';
import { isLocalRepo } from './shared/repo-location.js';
import { AppError, failureTypeOf } from './shared/errors.js';
import { repoSlug } from './shared/ids.js';
import proto from '@temporalio/proto';
import {
  AnswerPayload,
  MessagePayload,
  type IntegrateSpec,
  type JobInput,
  type JobPhase,
  type JobResult,
  type JobSpecInput,
  type JobStatusView,
} from './shared/schemas.js';
import { jobUiUrl } from './client/ui-url.js';
import { connectionSettings, unreachable } from './temporal/connection.js';

import { prepareJob } from './client/prepare-job.js';
import { integrateFinishedJob, queueView } from './client/integration.js';
import { refuseMessage } from './client/message.js';
import { answerTarget, attemptViews, BEST_OF_WORKFLOW_TYPE, type AttemptView, workflowTypeFor } from './client/attempts.js';

export { newJobId, prepareJob } from './client/prepare-job.js';
import { TERMINAL_PHASES } from './shared/phases.js';
import { queryLiteral } from './shared/visibility-query.js';
import { DroverAgent, DroverRepo, DroverStatus } from './shared/search-attributes.js';
import { answerSignal, messageSignal, statusQuery } from './workflows/definitions.js';
import type { agentJobV2 } from './workflows/agent-job.js';

/** What new jobs start. */
export const WORKFLOW_TYPE = 'agentJobV2';
/** Every type a job may run as: jobs started by earlier versions run agentJobWorkflow. */
export const JOB_WORKFLOW_TYPES = ['agentJobWorkflow', WORKFLOW_TYPE, BEST_OF_WORKFLOW_TYPE] as const;

export interface JobReport {
  jobId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  execution: string;
  phase: JobPhase | string;
  uiUrl?: string;
  status?: JobStatusView;
  result?: JobResult;
  failure?: { type: string; message: string };
  /** The running activity and the one-line progress from its last heartbeat. */
  activity?: { type: string; attempt: number; progress?: string; lastFailure?: string };
  /** The question the job waits on, from the status query or (no worker running) the workflow's memo. */
  pendingQuestion?: string;
  /** Why the job is not moving, when Drover can tell. */
  note?: string;
  /** A best-of-N job's attempts, each with its own phase and pending question. */
  attempts?: AttemptView[];
}

export interface JobListItem {
  jobId: string;
  execution: string;
  phase: string;
  repo: string;
  agent: string;
  startTime: string;
  question?: string | null;
}

export class DroverClient {
  private constructor(
    readonly config: DroverConfig,
    readonly connection: Connection,
    readonly client: Client,
  ) {}

  static async connect(config: DroverConfig): Promise<DroverClient> {
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...connectionSettings(config.temporal), connectTimeout: 5_000 });
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw unreachable(config.temporal, err, 'start one with `drover dev`');
    }
    return new DroverClient(config, connection, new Client({ connection, namespace: config.temporal.namespace }));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** The job's page in the Temporal UI, when Drover knows where the UI is (ui.url, or a `drover dev` here). */
  uiUrl(jobId: string): string | undefined {
    return jobUiUrl(this.config, jobId);
  }

  /** Validates the job at the edge (schema, repo, refs) and starts its workflow. Nothing starts on bad input. */
  async submit(spec: JobSpecInput): Promise<{ jobId: string; uiUrl?: string; input: JobInput }> {
    const input = await prepareJob(spec, this.config);
    try {
      await this.client.workflow.start<typeof agentJobV2>(workflowTypeFor(input, WORKFLOW_TYPE), {
        workflowId: input.id,
        taskQueue: this.config.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: DroverStatus, value: 'queued' },
          { key: DroverRepo, value: repoSlug(input.repo) },
          { key: DroverAgent, value: input.agent.kind },
        ],
        staticSummary: `drover: ${firstLine(input.prompt, 100)}`,
        staticDetails: `**Repo:** ${input.repo}\n**Base:** ${input.base}\n**Agent:** ${input.agent.kind}\n**Branch:** drover/${input.id}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new AppError('JobAlreadyExists', `a job with id ${input.id} already exists`);
      }
      throw err;
    }
    const uiUrl = this.uiUrl(input.id);
    return { jobId: input.id, ...(uiUrl ? { uiUrl } : {}), input };
  }

  async status(jobId: string): Promise<JobReport> {
    const handle = this.handle(jobId);
    const desc = await handle.describe().catch((err) => rethrowNotFound(err, jobId));
    const execution = desc.status.name;
    const report: JobReport = {
      jobId,
      execution,
      phase: desc.typedSearchAttributes.get(DroverStatus) ?? 'unknown',
    };
    const uiUrl = this.uiUrl(jobId);
    if (uiUrl) report.uiUrl = uiUrl;
    const pending = desc.raw.pendingActivities?.[0];
    if (pending) {
      const details = pending.heartbeatDetails?.payloads?.[0];
      const beat = details
        ? (this.client.options.loadedDataConverter.payloadConverter.fromPayload(details) as { summary?: string })
        : undefined;
      report.activity = {
        type: pending.activityType?.name ?? 'unknown',
        attempt: pending.attempt ?? 1,
        ...(beat?.summary ? { progress: beat.summary } : {}),
        ...(pending.lastFailure?.message ? { lastFailure: pending.lastFailure.message } : {}),
      };
    }
    if (execution === 'RUNNING') {
      report.status = await this.client.withDeadline(Date.now() + 5_000, () => handle.query(statusQuery)).catch(() => undefined);
      if (report.status) report.phase = report.status.phase;
      else {
        report.note = 'no worker answered the status query; is a worker running on this task queue?';
        const memo = desc.memo as { pendingQuestion?: string } | undefined;
        if (memo?.pendingQuestion) report.pendingQuestion = memo.pendingQuestion;
      }
      report.pendingQuestion ??= report.status?.pendingQuestion ?? undefined;
      if (report.status?.attemptJobs) report.attempts = await attemptViews(report.status.attemptJobs, (id) => this.status(id));
      const queue = report.status?.waitingQueue;
      if (report.phase === 'preparing' && queue && (!report.activity || report.activity.type === 'prepareWorkspace')) {
        if ((await this.pollers(queue)) === 0) {
          report.note = `waiting for ${report.status?.waitingFor ?? `a worker on ${queue}`}: no worker polls it; start \`drover worker\` where that is available`;
        }
      }
      const wft = desc.raw.pendingWorkflowTask;
      const waitingMs = wft?.scheduledTime ? Date.now() - Number(wft.scheduledTime.seconds ?? 0) * 1000 : 0;
      if (!report.activity && waitingMs > 5_000) report.note ??= 'waiting for a worker to pick up the job';
    } else if (execution === 'COMPLETED') {
      report.result = (await handle.result()) as JobResult;
      report.phase = report.result.status;
    } else {
      await handle.result().catch((err) => {
        const cause = err instanceof WorkflowFailedError ? err.cause : err;
        report.failure = { type: failureTypeOf(err) ?? cause?.name ?? 'Unknown', message: cause?.message ?? String(err) };
      });
      report.phase = execution === 'CANCELLED' ? 'cancelled' : 'failed';
    }
    return report;
  }

  /** How many workers poll an activity queue right now (the server forgets pollers after a few minutes). */
  async pollers(queue: string): Promise<number> {
    const res = await this.client.workflowService.describeTaskQueue({
      namespace: this.config.temporal.namespace,
      taskQueue: { name: queue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    return res.pollers?.length ?? 0;
  }

  async answer(jobId: string, text: string): Promise<void> {
    const parsed = AnswerPayload.safeParse({ text });
    if (!parsed.success) throw new AppError('InvalidInput', `answer: ${oneLine(parsed.error)}`);
    const report = await this.status(jobId);
    if (report.execution !== 'RUNNING') throw new AppError('InvalidInput', `job ${jobId} is not running (${report.execution})`);
    // The job's own question (its merge queue's) first, else the one attempt that asks.
    if (report.attempts && !report.status?.pendingQuestion) return this.answer(answerTarget(jobId, report.attempts), text);
    if (report.status && report.status.pendingQuestion === null) {
      throw new AppError('InvalidInput', `job ${jobId} has no pending question (phase ${report.status.phase})`);
    }
    await this.handle(jobId).signal(answerSignal, parsed.data);
  }

  /** A person's steering message for the running job: its agent gets it at its next opportunity. */
  async message(jobId: string, text: string): Promise<void> {
    const parsed = MessagePayload.safeParse({ text });
    if (!parsed.success) throw new AppError('InvalidInput', `message: ${oneLine(parsed.error)}`);
    refuseMessage(jobId, await this.status(jobId));
    await this.handle(jobId).signal(messageSignal, parsed.data);
  }

  async cancel(jobId: string): Promise<void> {
    const desc = await this.handle(jobId)
      .describe()
      .catch((err) => rethrowNotFound(err, jobId));
    if (desc.status.name !== 'RUNNING')
      throw new AppError('InvalidInput', `job ${jobId} has already ended (${desc.status.name.toLowerCase()})`);
    await this.handle(jobId).cancel();
  }

  /** Waits for the job to close and returns its result (or throws its failure). */
  async result(jobId: string): Promise<JobResult> {
    return (await this.handle(jobId)
      .result()
      .catch((err) => rethrowNotFound(err, jobId))) as JobResult;
  }

  async list(filter: { status?: string; repo?: string; limit?: number } = {}): Promise<JobListItem[]> {
    const clauses = [
      `WorkflowType IN (${JOB_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ')})`,
      `TaskQueue = ${queryLiteral(this.config.taskQueue)}`,
    ];
    if (filter.status) clauses.push(`DroverStatus = ${queryLiteral(filter.status)}`);
    if (filter.repo) clauses.push(`DroverRepo = ${queryLiteral(repoSlug(isLocalRepo(filter.repo) ? resolve(filter.repo) : filter.repo))}`);
    const items: JobListItem[] = [];
    for await (const wf of this.client.workflow.list({ query: clauses.join(' AND ') })) {
      const running = wf.status.name === 'RUNNING';
      const recorded = wf.typedSearchAttributes.get(DroverStatus) ?? 'unknown';
      // A terminated job never updated its attribute; show how it really ended.
      const phase = running || TERMINAL_PHASES.has(recorded) ? recorded : wf.status.name.toLowerCase();
      const item: JobListItem = {
        jobId: wf.workflowId,
        execution: wf.status.name,
        phase,
        repo: wf.typedSearchAttributes.get(DroverRepo) ?? '',
        agent: wf.typedSearchAttributes.get(DroverAgent) ?? '',
        startTime: wf.startTime.toISOString(),
      };
      if (phase === 'waiting_for_human' && running) {
        const memo = (await wf.memo) as { pendingQuestion?: string } | undefined;
        item.question =
          memo?.pendingQuestion ??
          (await this.client
            .withDeadline(Date.now() + 3_000, () => this.handle(wf.workflowId).query(statusQuery))
            .then((view) => view.pendingQuestion)
            .catch(() => null));
      }
      items.push(item);
      if (items.length >= (filter.limit ?? 100)) break;
    }
    return items;
  }

  /** Hands a finished job's commit to its repository's merge queue. */
  async integrate(jobId: string, spec: IntegrateSpec): Promise<{ workflowId: string; commit: string; repo: string }> {
    const { workflowId, entry, repo } = await integrateFinishedJob(this.client, this.config.taskQueue, jobId, spec);
    return { workflowId, commit: entry.commit, repo };
  }

  /** What the merge queue of a repository and target holds. */
  queue(repo: string, into: string) {
    return queueView(this.client, repo, into);
  }

  handle(jobId: string): WorkflowHandle<typeof agentJobV2> {
    return this.client.workflow.getHandle<typeof agentJobV2>(jobId);
  }
}

const firstLine = (s: string, max: number) => {
  const line = s.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

function rethrowNotFound(err: unknown, jobId: string): never {
  if (err instanceof WorkflowNotFoundError) throw new AppError('JobNotFound', `no job with id ${jobId}`);
  throw err;
}
