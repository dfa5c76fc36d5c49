export { agentJobV2, agentJobWorkflow } from './agent-job.js';
export { readJobLog } from './read-log.js';
