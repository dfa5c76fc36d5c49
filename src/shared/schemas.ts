/**
 * zod schemas for everything that crosses Temporal: the job, the activities' inputs and outputs, the status
 * query and the result. They are the single source of the types. Everything here is JSON-plain and bounded,
 * because it is stored in workflow history, which every UI user can read.
 */
export * from './schemas/primitives.js';
export * from './schemas/agents.js';
export * from './schemas/job.js';
export * from './schemas/results.js';
export * from './schemas/activity-io.js';
export * from './schemas/log-page.js';
export * from './schemas/integration.js';
export * from './schemas/notify.js';
export * from './schemas/steering.js';
export * from './schemas/subtasks.js';
