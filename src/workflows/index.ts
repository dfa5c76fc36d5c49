export { agentJobV2, agentJobWorkflow } from './agent-job.js';
