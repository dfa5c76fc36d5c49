/** A job's phases, in the order a job goes through them: pure, so the CLI's help needs no schema library. */
export const JOB_PHASES = [
  'queued',
  'preparing',
  'setting_up',
  'running_agent',
  'waiting_for_human',
  // Its subtasks run, each a child job; the parent's worktree waits for their commits.
  'running_subtasks',
  'validating',
  'reviewing',
  'committing',
  'cleaning_up',
  // A best-of-N job: its attempts run (each an ordinary job with these phases), then the winner is chosen.
  'running_attempts',
  'selecting',
  'integrating',
  'succeeded',
  'integrated',
  'failed',
  'no_changes',
  'cancelled',
] as const;

/** The phases a job ends in: the workflow's outcome, and the one status a closed workflow keeps. */
export const TERMINAL_PHASES: ReadonlySet<string> = new Set<(typeof JOB_PHASES)[number]>([
  'succeeded',
  'integrated',
  'failed',
  'no_changes',
  'cancelled',
]);
