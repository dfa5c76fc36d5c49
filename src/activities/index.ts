import { createAgentActivities } from './agent.js';
import { createAttemptActivities } from './attempts.js';
import { createCommitActivities } from './commit.js';
import { createIntegrationActivities } from './integrate.js';
import { createJobInputActivities } from './job-input.js';
import { createNotifyActivities } from './notify.js';
import { notifySecrets, subscribedEvents } from './notify-targets.js';
import type { ActivityContext, ActivityDeps } from './deps.js';
import { openJobLog } from './job-log.js';
import { createReadLogActivities } from './read-log.js';
import { createRedactor } from './redact.js';
import { createSharedFetch } from './shared-fetch.js';
import { failuresMapped } from './to-failure.js';
import { createValidationActivities } from './validate.js';
import { createSetupActivities } from './setup.js';
import { createSteerActivities } from './steer.js';
import { createSubtaskActivities } from './subtasks.js';
import { createWorkspaceActivities } from './workspace.js';

/** Activity names are wire names (they are in every history): renaming one breaks running jobs. */
export function createActivities(deps: ActivityDeps) {
  const redact = createRedactor({ ...deps.withheld, ...notifySecrets(deps.notify), ...deps.baseEnv });
  const ctx: ActivityContext = {
    ...deps,
    redact,
    jobLog: (jobId) => openJobLog(deps.paths.jobLog(jobId), redact),
    fetchMirror: createSharedFetch(),
    liveRuns: new Map(),
  };
  return {
    // Not redacted: it returns the job as submitted (already in the start event), and redacting a worker
    // secret's value out of a prompt or an image name would change the job.
    ...failuresMapped(createJobInputActivities(subscribedEvents(deps.notify))),
    // Not redacted on the way out: a page is ciphertext, redacted inside before it is sealed.
    ...failuresMapped(createReadLogActivities(ctx)),
    ...failuresMapped(
      {
        ...createWorkspaceActivities(ctx),
        ...createSetupActivities(ctx),
        ...createAgentActivities(ctx),
        ...createSteerActivities(ctx),
        ...createValidationActivities(ctx),
        ...createCommitActivities(ctx),
        ...createIntegrationActivities(ctx),
        ...createAttemptActivities(ctx),
        ...createNotifyActivities(ctx),
        ...createSubtaskActivities(ctx),
      },
      ctx.redact,
    ),
  };
}
export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.js';
