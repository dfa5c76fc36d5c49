export { agentJobV2, agentJobWorkflow } from './agent-job.js';
export { readJobLog } from './read-log.js';
export { integrationWorkflow } from './integration.js';
export { bestOfJob } from './best-of.js';
export { notifyJob } from './notify.js';
