/** Handing a job's commit to its repository's integration workflow: started by the first job, signalled by the rest. */
import type { Client } from '@temporalio/client';
import { integrationIdFor, repoSlug } from '../shared/ids.js';
import type { IntegrationEntry } from '../shared/schemas.js';
import { DroverRepo } from '../shared/search-attributes.js';

/** Wire names: in every integration workflow's history. */
export const INTEGRATION_WORKFLOW = 'integrationWorkflow';
export const ENQUEUE_SIGNAL = 'enqueue';

export interface IntegrationTarget {
  taskQueue: string;
  repo: string;
  into: string;
}

/** Signal-with-start: one workflow per repository and target, whoever comes first starts it. Returns its id. */
export async function enqueueIntegration(client: Client, target: IntegrationTarget, entry: IntegrationEntry): Promise<string> {
  const workflowId = integrationIdFor(target.repo, target.into);
  await client.workflow.signalWithStart(INTEGRATION_WORKFLOW, {
    workflowId,
    taskQueue: target.taskQueue,
    args: [{ repo: target.repo, into: target.into }],
    signal: ENQUEUE_SIGNAL,
    signalArgs: [entry],
    typedSearchAttributes: [{ key: DroverRepo, value: repoSlug(target.repo) }],
    staticSummary: `merge queue: ${repoSlug(target.repo)} → ${target.into}`,
  });
  return workflowId;
}
