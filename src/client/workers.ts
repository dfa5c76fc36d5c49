/**
 * The live workers of a job queue, from Temporal's own view: the pollers of the job queue, each worker's host
 * queue and the backend queues (a worker's identity carries its host and runtime, src/shared/worker-identity.ts),
 * and the running jobs' status, which names the worker holding each. No registry of Drover's own.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { backendQueueFor, dockerQueueFor, hostQueueFor } from '../shared/ids.js';
import { AGENT_KINDS } from '../shared/schemas.js';
import { queryLiteral } from '../shared/visibility-query.js';
import { parseWorkerIdentity } from '../shared/worker-identity.js';
import { statusQuery } from '../workflows/definitions.js';
import { JOB_WORKFLOW_TYPES } from '../client.js';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/** A live worker polls each of its queues at least once a minute (the server's long poll); give it half more. */
export const DEFAULT_GONE_AFTER_MS = 90_000;
const QUERY_DEADLINE_MS = 3_000;
const ALL_QUERIES_DEADLINE_MS = 15_000;

export interface WorkerView {
  workerId: string;
  host?: string;
  pid?: number;
  /** 'host', or 'docker' with the warm pool's size. */
  runtime: { kind: string; poolSize?: number };
  backends: string[];
  /** Running jobs whose status names this worker as the one holding them. */
  jobs: string[];
  lastSeen: string;
  /** Gone: no poll from it for longer than `goneAfterMs`; the server forgets it a few minutes later. */
  state: 'live' | 'gone';
}

interface Poll {
  identity: string;
  seen: number;
}

export interface WorkersReport {
  workers: WorkerView[];
  /** Running jobs whose status query did not answer in time: their workers may list fewer jobs. */
  jobsUnanswered: number;
}

export async function listWorkers(client: Client, taskQueue: string, goneAfterMs = DEFAULT_GONE_AFTER_MS): Promise<WorkersReport> {
  const [workflowPollers, backendPollers, jobs] = await Promise.all([
    pollers(client, taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    Promise.all(
      [...AGENT_KINDS.map((k) => backendQueueFor(taskQueue, k)), dockerQueueFor(taskQueue)].map((q) => activityPollers(client, q)),
    ),
    jobsByWorker(client, taskQueue),
  ]);
  const { byWorker, unanswered } = jobs;
  const ids = [...new Set(workflowPollers.flatMap((p) => parseWorkerIdentity(p.identity)?.workerId ?? []))];
  const hosts = await Promise.all(ids.map((id) => activityPollers(client, hostQueueFor(taskQueue, id))));
  const workers = ids.map((workerId, i): WorkerView => {
    const own = (polls: Poll[]) => polls.filter((p) => parseWorkerIdentity(p.identity)?.workerId === workerId);
    const hostPoll = own(hosts[i]!).sort((a, b) => b.seen - a.seen)[0];
    const traits = hostPoll ? (parseWorkerIdentity(hostPoll.identity)?.traits ?? {}) : {};
    const offered = backendPollers.flatMap((polls) => own(polls).map((p) => parseWorkerIdentity(p.identity)!.role));
    const seen = Math.max(...[...own(workflowPollers), ...own(hosts[i]!)].map((p) => p.seen));
    const [kind = 'host', pool] = (traits.runtime ?? 'host').split(':');
    return {
      workerId,
      ...(traits.host ? { host: traits.host } : {}),
      ...(traits.pid ? { pid: Number(traits.pid) } : {}),
      runtime: { kind, ...(pool ? { poolSize: Number(pool) } : {}) },
      backends: [...new Set(offered.filter((r) => r !== 'docker'))].sort(),
      jobs: byWorker.get(workerId) ?? [],
      lastSeen: new Date(seen).toISOString(),
      state: Date.now() - seen > goneAfterMs ? 'gone' : 'live',
    };
  });
  return { workers, jobsUnanswered: unanswered };
}

async function pollers(client: Client, queue: string, type: number): Promise<Poll[]> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: queue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: type,
  });
  return (res.pollers ?? []).map((p) => ({
    identity: p.identity ?? '',
    seen: p.lastAccessTime ? Number(p.lastAccessTime.seconds ?? 0) * 1000 + Math.floor((p.lastAccessTime.nanos ?? 0) / 1e6) : 0,
  }));
}

const activityPollers = (client: Client, queue: string) => pollers(client, queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY);

/**
 * Running jobs by the worker their status names, 8 queries at a time within one deadline for them all (each
 * query of a job no worker has cached replays its history); a job that does not answer in time is counted.
 */
async function jobsByWorker(client: Client, taskQueue: string): Promise<{ byWorker: Map<string, string[]>; unanswered: number }> {
  const deadline = Date.now() + ALL_QUERIES_DEADLINE_MS;
  const ids: string[] = [];
  const types = JOB_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
  const query = `ExecutionStatus = 'Running' AND WorkflowType IN (${types}) AND TaskQueue = ${queryLiteral(taskQueue)}`;
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  const byWorker = new Map<string, string[]>();
  let unanswered = 0;
  for (let i = 0; i < ids.length; i += 8) {
    const within = Math.min(deadline, Date.now() + QUERY_DEADLINE_MS);
    const batch = ids.slice(i, i + 8);
    const views = Date.now() >= deadline ? batch.map(() => undefined) : await Promise.all(batch.map((id) => statusOf(client, id, within)));
    views.forEach((view, j) => {
      if (!view) unanswered += 1;
      else if (view.worker) byWorker.set(view.worker, [...(byWorker.get(view.worker) ?? []), batch[j]!]);
    });
  }
  return { byWorker, unanswered };
}

const statusOf = (client: Client, id: string, deadline: number) =>
  client.withDeadline(deadline, () => client.workflow.getHandle(id).query(statusQuery)).catch(() => undefined);
