/**
 * The agent runs in progress on this worker, by job: how a steering message, sent to the worker's own queue,
 * reaches the CLI the job is running here. In memory: a run lives only as long as this process does.
 */
export interface LiveRun {
  /** Writes a person's message into the running CLI; false when it takes none now. */
  steer(text: string): boolean;
}

export type LiveRuns = Map<string, LiveRun>;

/** Registers `run` for the job until the returned function is called. */
export function registerLiveRun(runs: LiveRuns, jobId: string, run: LiveRun): () => void {
  runs.set(jobId, run);
  return () => {
    if (runs.get(jobId) === run) runs.delete(jobId);
  };
}
