import { Context } from '@temporalio/activity';

/**
 * Heartbeats on a timer while long work runs: that is how cancellation reaches the activity and how a dead
 * worker is noticed. The interval stays well inside the heartbeat timeout.
 */
export function keepHeartbeating(details: () => unknown = () => undefined): () => void {
  const ctx = Context.current();
  const timeoutMs = ctx.info.heartbeatTimeoutMs ?? 30_000;
  const everyMs = Math.max(250, Math.min(1_000, Math.floor(timeoutMs / 3)));
  // The first beat after one interval, not at once: most activities of a job end well within it, and a beat
  // at their start was a call to the server each (four a job) that told it nothing.
  const timer = setInterval(() => ctx.heartbeat(details()), everyMs);
  return () => clearInterval(timer);
}

/** Runs `work` while heartbeating. */
export async function withHeartbeat<T>(work: () => Promise<T>, details?: () => unknown): Promise<T> {
  const stop = keepHeartbeating(details);
  try {
    return await work();
  } finally {
    stop();
  }
}
