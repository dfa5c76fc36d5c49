/** Serializes work per key inside one worker (fetches into one mirror). */
export function createKeyLock(): <T>(key: string, work: () => Promise<T>, signal?: AbortSignal) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async (key, work, signal) => {
    const previous = tails.get(key) ?? Promise.resolve();
    let started = false;
    const run = previous
      .catch(() => undefined)
      .then(() => {
        // A waiter cancelled before its turn never starts its work.
        if (signal?.aborted) throw signal.reason;
        started = true;
        return work();
      });
    tails.set(key, run);
    try {
      return await (signal ? Promise.race([run, abortedWhileWaiting(signal, () => started)]) : run);
    } finally {
      void run.catch(() => undefined).finally(() => {
        if (tails.get(key) === run) tails.delete(key);
      });
    }
  };
}

/** Rejects when the signal aborts before the work started; once it runs, the work answers to the signal itself. */
function abortedWhileWaiting(signal: AbortSignal, started: () => boolean): Promise<never> {
  return new Promise((_, reject) => {
    const onAbort = () => {
      if (!started()) reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
