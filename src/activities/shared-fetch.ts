/**
 * One fetch at a time per mirror, shared by the jobs that wait for it. A job must see a fetch that started
 * after it asked (the origin may have moved just before), so a caller joins the fetch queued behind the one
 * running, never the running one: a burst of N jobs on one repository costs at most two fetches, not N.
 */

/** What a caller learns of the fetch it got: when it ran and how many jobs shared it. */
export interface FetchRun {
  /** Counts fetches per key in this worker: equal ids mean the same fetch. */
  id: number;
  startedAt: number;
  endedAt: number;
  sharedBy: number;
}

export type SharedFetch = (key: string, work: (signal: AbortSignal) => Promise<void>, signal?: AbortSignal) => Promise<FetchRun>;

interface Flight {
  id: number;
  waiters: number;
  abort: AbortController;
  done: Promise<FetchRun>;
}

export function createSharedFetch(): SharedFetch {
  const running = new Map<string, Flight>();
  const queued = new Map<string, Flight>();
  let count = 0;

  function launch(key: string, work: (signal: AbortSignal) => Promise<void>, after: Promise<unknown>): Flight {
    const flight: Flight = { id: ++count, waiters: 0, abort: new AbortController(), done: Promise.resolve() as never };
    flight.done = after
      .catch(() => undefined)
      .then(async () => {
        if (queued.get(key) === flight) queued.delete(key);
        // Everyone who would share it gave up while it was queued: nothing to do.
        if (flight.abort.signal.aborted) throw flight.abort.signal.reason;
        running.set(key, flight);
        const startedAt = Date.now();
        try {
          await work(flight.abort.signal);
        } finally {
          if (running.get(key) === flight) running.delete(key);
        }
        return { id: flight.id, startedAt, endedAt: Date.now(), sharedBy: flight.waiters };
      });
    return flight;
  }

  return async (key, work, signal) => {
    let flight = queued.get(key);
    // One that everyone left is stopped: a newcomer must not inherit another job's cancellation.
    if (flight?.abort.signal.aborted) {
      queued.delete(key);
      flight = undefined;
    }
    if (!flight) {
      const ahead = running.get(key);
      flight = launch(key, work, ahead ? ahead.done : Promise.resolve());
      if (ahead) queued.set(key, flight);
      else running.set(key, flight);
    }
    return join(flight, signal);
  };
}

/** Waits for the flight; a caller whose signal aborts leaves, and the last one to leave stops the fetch. */
async function join(flight: Flight, signal: AbortSignal | undefined): Promise<FetchRun> {
  flight.waiters += 1;
  if (!signal) return flight.done;
  if (signal.aborted) return leave(flight, signal);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([flight.done, aborted]);
  } catch (err) {
    if (signal.aborted) return leave(flight, signal);
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function leave(flight: Flight, signal: AbortSignal): never {
  flight.waiters -= 1;
  if (flight.waiters === 0) flight.abort.abort(signal.reason);
  void flight.done.catch(() => undefined);
  throw signal.reason;
}
