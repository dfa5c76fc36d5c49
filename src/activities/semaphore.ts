/** Bounds how many agents run at once on this worker; waiting happens inside the (heartbeating) activity. */
export function createSemaphore(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    async acquire(signal?: AbortSignal): Promise<() => void> {
      if (running >= limit) {
        await new Promise<void>((resolve, reject) => {
          const go = () => {
            signal?.removeEventListener('abort', abort);
            resolve();
          };
          const abort = () => {
            waiting.splice(waiting.indexOf(go), 1);
            reject(signal?.reason ?? new Error('aborted'));
          };
          waiting.push(go);
          signal?.addEventListener('abort', abort, { once: true });
        });
      } else {
        running++;
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const next = waiting.shift();
        if (next) next();
        else running--;
      };
    },
  };
}
