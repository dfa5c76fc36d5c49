/**
 * The worker's entry point, where the SDK samples and our design card put it: `startWorker` runs a Drover
 * worker. Its parts (backend checks, Docker set-up, the data-dir lock, the sweep) are in worker/.
 */
export * from './worker/start.js';
