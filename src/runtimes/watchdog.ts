import type { ExecEnd, ExecSpec } from './runtime.js';

export interface Watchdog {
  /** Output arrived: the idle clock starts again. */
  touch(): void;
  dispose(): void;
}

/**
 * The three ways a run is stopped from outside, shared by every runtime: nothing printed for
 * idleTimeoutMs, longer than hardTimeoutMs, or the activity cancelled. `stop` does the runtime's killing.
 */
export function watchdog(spec: Pick<ExecSpec, 'idleTimeoutMs' | 'hardTimeoutMs' | 'signal'>, stop: (why: ExecEnd) => void): Watchdog {
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = () => {
    if (!spec.idleTimeoutMs) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop('idle'), spec.idleTimeoutMs);
  };
  const hardTimer = spec.hardTimeoutMs ? setTimeout(() => stop('timeout'), spec.hardTimeoutMs) : undefined;
  const onAbort = () => stop('cancelled');
  if (spec.signal?.aborted) onAbort();
  spec.signal?.addEventListener('abort', onAbort);
  touch();
  return {
    touch,
    dispose() {
      clearTimeout(idleTimer);
      clearTimeout(hardTimer);
      spec.signal?.removeEventListener('abort', onAbort);
    },
  };
}
