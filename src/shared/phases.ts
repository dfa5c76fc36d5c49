/** A job's phases, in the order a job goes through them: pure, so the CLI's help needs no schema library. */
export const JOB_PHASES = [
  'queued',
  'preparing',
  'setting_up',
  'running_agent',
  'waiting_for_human',
  'validating',
  'reviewing',
  'committing',
  'cleaning_up',
  'succeeded',
  'failed',
  'no_changes',
  'cancelled',
] as const;
