/**
 * A Drover job run as a child of another (a best-of attempt, a subtask): the same options, search attributes
 * and failure handling for each, so the parent's UI row and its children look alike.
 */
import { executeChild, isCancellation, ParentClosePolicy } from '@temporalio/workflow';
import { failureTypeOf } from '../shared/errors.js';
import { repoSlug } from '../shared/ids.js';
import type { JobInput, JobResult } from '../shared/schemas.js';
import { DroverAgent, DroverRepo, DroverStatus } from '../shared/search-attributes.js';
import type { AttemptEnd } from '../shared/select-winner.js';

/** The child's result, or its failure or cancellation, which are the parent's to report, never thrown. */
export async function runChildJob(job: JobInput, child: JobInput, what: string, summary: string): Promise<AttemptEnd> {
  try {
    const result = await executeChild<(input: unknown) => Promise<JobResult>>('agentJobV2', {
      workflowId: child.id,
      args: [child],
      // The default cancellation type: cancelling the parent waits for each child's cancellation (its cleanup).
      // A parent that is terminated or times out still has its children cancelled, so they clean up.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: DroverStatus, value: 'queued' },
        { key: DroverRepo, value: repoSlug(job.repo) },
        { key: DroverAgent, value: child.agent.kind },
      ],
      staticSummary: summary.slice(0, 200),
    });
    return { result };
  } catch (err) {
    if (isCancellation(err)) return { status: 'cancelled', failure: { type: 'Cancelled', message: `the ${what} was cancelled` } };
    return { status: 'failed', failure: { type: failureTypeOf(err) ?? 'Unexpected', message: rootMessage(err) } };
  }
}

/** The innermost cause's message: what went wrong, not the layers of activity and child failures around it. */
export function rootMessage(err: unknown): string {
  let root = err as Error | undefined;
  while (root?.cause instanceof Error) root = root.cause;
  return root?.message ?? String(err);
}
