import { createAgentActivities } from './agent.js';
import { createCommitActivities } from './commit.js';
import type { ActivityDeps } from './deps.js';
import { failuresMapped } from './to-failure.js';
import { createValidationActivities } from './validate.js';
import { createWorkspaceActivities } from './workspace.js';

/** Activity names are wire names (they are in every history): renaming one breaks running jobs. */
export function createActivities(deps: ActivityDeps) {
  return failuresMapped({
    ...createWorkspaceActivities(deps),
    ...createAgentActivities(deps),
    ...createValidationActivities(deps),
    ...createCommitActivities(deps),
  });
}
export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.js';
