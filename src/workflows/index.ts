export { agentJobWorkflow } from './agent-job.js';
