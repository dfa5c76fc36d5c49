/** The merge queue from the client: a finished job handed to it after the fact, and what a queue holds. */
import { resolve } from 'node:path';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { AppError } from '../shared/errors.js';
import { integrationIdFor } from '../shared/ids.js';
import { jobPlan } from '../shared/job-plan.js';
import { isLocalRepo } from '../shared/repo-location.js';
import type {
  IntegrateSpec,
  IntegrationEntry,
  JobDefaults,
  JobInput,
  JobResult,
  QueueView,
  RuntimeSpec,
  Workspace,
} from '../shared/schemas.js';
import { enqueueIntegration } from '../temporal/integration-queue.js';
import { queueQuery } from '../workflows/definitions.js';

/** The same repository the way jobs name it: a local path made absolute, as prepareJob does. */
export const repoAsJobsName = (repo: string) => (isLocalRepo(repo) ? resolve(repo.replace(/^file:\/\//i, '')) : repo);

/**
 * Queues a finished job's commit. Its steps are the job's as it ran them: its own, else the defaults its
 * first checkout found (the prepareWorkspace result in its history), never what its commit holds now.
 */
export async function integrateFinishedJob(
  client: Client,
  taskQueue: string,
  jobId: string,
  spec: IntegrateSpec,
): Promise<{ workflowId: string; entry: IntegrationEntry; repo: string }> {
  const handle = client.workflow.getHandle(jobId);
  const desc = await handle.describe().catch((err) => {
    throw err instanceof WorkflowNotFoundError ? new AppError('JobNotFound', `no job with id ${jobId}`) : err;
  });
  if (desc.status.name !== 'COMPLETED') {
    const why =
      desc.status.name === 'RUNNING'
        ? 'is still running (submit with --integrate to land it when it is done)'
        : `ended ${desc.status.name.toLowerCase()}`;
    throw new AppError('InvalidInput', `job ${jobId} ${why}`);
  }
  const result = (await handle.result()) as JobResult;
  if (result.status !== 'succeeded' || !result.commit)
    throw new AppError('InvalidInput', `job ${jobId} has no commit to integrate (${result.status})`);
  if (result.integration?.status === 'integrated') {
    throw new AppError('InvalidInput', `job ${jobId} is already on ${result.integration.into} as ${result.integration.commit ?? '?'}`);
  }
  const { input, defaults, runtime } = await startAndDefaults(client, jobId);
  const plan = jobPlan(input, defaults);
  const entry: IntegrationEntry = {
    jobId,
    commit: result.commit,
    ...(result.baseCommit ? { base: result.baseCommit } : {}),
    ticket: `${result.commit.slice(0, 12)}-cli-${Date.now().toString(36)}`,
    agentKind: input.agent.kind,
    mode: spec.mode,
    setup: plan.setup,
    validate: plan.validate,
    teardown: plan.teardown,
    cache: plan.cache,
    // The runtime its worker chose: steps from a .drover.yml may have been allowed only because it was docker.
    ...((runtime ?? input.runtime) ? { runtime: runtime ?? input.runtime } : {}),
    ...(input.include?.length ? { include: input.include } : {}),
    notify: false,
    timeouts: { heartbeat: input.timeouts.heartbeat, workerPickup: input.timeouts.workerPickup },
  };
  const workflowId = await enqueueIntegration(client, { taskQueue, repo: input.repo, into: spec.into }, entry);
  return { workflowId, entry, repo: input.repo };
}

/** The job as started, and the defaults and runtime its first checkout returned. */
async function startAndDefaults(
  client: Client,
  jobId: string,
): Promise<{ input: JobInput; defaults: JobDefaults | undefined; runtime?: RuntimeSpec }> {
  const history = await client.workflow.getHandle(jobId).fetchHistory();
  const convert = (p: unknown) => client.options.loadedDataConverter.payloadConverter.fromPayload(p as never);
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!started) throw new AppError('Unexpected', `job ${jobId} has no input in its history`);
  const prepares = new Set<string>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'prepareWorkspace') prepares.add(String(e.eventId));
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed && prepares.has(String(completed.scheduledEventId))) {
      const ws = convert(completed.result?.payloads?.[0]) as Workspace;
      return { input: convert(started) as JobInput, defaults: ws.defaults, ...(ws.runtime ? { runtime: ws.runtime } : {}) };
    }
  }
  return { input: convert(started) as JobInput, defaults: undefined };
}

/** What the queue of a repository and target holds; an empty queue when it never ran or has ended. */
export async function queueView(client: Client, repo: string, into: string): Promise<QueueView & { workflowId: string; running: boolean }> {
  const name = repoAsJobsName(repo);
  const workflowId = integrationIdFor(name, into);
  const handle = client.workflow.getHandle(workflowId);
  const desc = await handle.describe().catch((err) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  if (!desc) return { workflowId, running: false, repo: name, into, entries: [] };
  const view = await client
    .withDeadline(Date.now() + 5_000, () => handle.query(queueQuery))
    .catch((err) => {
      throw new AppError(
        'ServerUnavailable',
        `could not read the merge queue ${workflowId}: no worker answered (${String(err?.message ?? err)})`,
      );
    });
  return { workflowId, running: desc.status.name === 'RUNNING', repo: name, into, entries: view?.entries ?? [] };
}
