/**
 * The names of the patches in agentJobWorkflow's history: each marks a change made after runs had started,
 * so those runs replay the code they began with. agentJobV2 has every one of them applied (JobStyle.has).
 */
/** Added after v1 histories were recorded; older runs replay without the memo. */
export const PENDING_QUESTION_MEMO = 'pending-question-memo';
/** Added with the CLI backends: the first activity goes to the backend's queue, not the job queue. */
export const BACKEND_QUEUES = 'backend-queues';
/** Added with setup and teardown steps: activities that older histories do not have. */
export const SETUP_STEPS = 'setup-steps';
