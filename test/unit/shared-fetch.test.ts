import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createSharedFetch } from '../../src/activities/shared-fetch.js';

/** A fetch that records when it runs and ends when told to. */
function controlledFetch() {
  const runs: { started: number; ended?: number; release: () => void; signal: AbortSignal }[] = [];
  let active = 0;
  let maxActive = 0;
  const work = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const run = { started: runs.length, signal, release: (): void => undefined };
      run.release = () => {
        active -= 1;
        resolve();
      };
      signal.addEventListener('abort', () => {
        active -= 1;
        reject(signal.reason);
      });
      runs.push(run);
    });
  return { runs, work, maxActive: () => maxActive };
}

describe('shared fetch', () => {
  it('gives a burst of callers two fetches, never two at once, and each caller one that started after it asked', async () => {
    const shared = createSharedFetch();
    const f = controlledFetch();
    const first = shared('m', f.work);
    await delay(1);
    assert.equal(f.runs.length, 1);
    // Seven more callers while the first fetch runs: they must not share it (it started before they asked).
    const rest = Array.from({ length: 7 }, () => shared('m', f.work));
    await delay(1);
    assert.equal(f.runs.length, 1, 'the queued fetch waits for the running one');
    f.runs[0]!.release();
    const a = await first;
    await delay(1);
    assert.equal(f.runs.length, 2);
    f.runs[1]!.release();
    const others = await Promise.all(rest);
    assert.equal(f.maxActive(), 1);
    assert.equal(a.sharedBy, 1);
    assert.ok(others.every((r) => r.id === others[0]!.id && r.id !== a.id && r.sharedBy === 7));
    assert.ok(others[0]!.startedAt >= a.endedAt);
  });

  it('keeps keys apart', async () => {
    const shared = createSharedFetch();
    const f = controlledFetch();
    const one = shared('a', f.work);
    const two = shared('b', f.work);
    await delay(1);
    assert.equal(f.runs.length, 2);
    for (const r of f.runs) r.release();
    assert.notEqual((await one).id, (await two).id);
  });

  it('lets a cancelled caller leave, and stops the fetch only when its last caller left', async () => {
    const shared = createSharedFetch();
    const f = controlledFetch();
    const running = shared('m', f.work);
    await delay(1);
    const c1 = new AbortController();
    const c2 = new AbortController();
    const w1 = shared('m', f.work, c1.signal);
    const w2 = shared('m', f.work, c2.signal);
    c1.abort(new Error('cancelled 1'));
    await assert.rejects(w1, /cancelled 1/);
    f.runs[0]!.release();
    await running;
    await delay(1);
    assert.equal(f.runs.length, 2, 'the queued fetch still runs for the caller that stayed');
    c2.abort(new Error('cancelled 2'));
    await assert.rejects(w2, /cancelled 2/);
    assert.equal(f.runs[1]!.signal.aborted, true, 'nobody waits for it any more: the fetch is stopped');
  });

  it('passes a failed fetch to everyone who shared it, and the next caller fetches afresh', async () => {
    const shared = createSharedFetch();
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('remote hung up');
    };
    await Promise.all([assert.rejects(shared('m', failing), /hung up/), assert.rejects(shared('m', failing), /hung up/)]);
    await shared('m', async () => undefined);
    assert.equal(calls, 2);
  });
});

describe('shared fetch, after everyone left a queued one', () => {
  it('gives a newcomer a fetch of its own, not the cancellation of the jobs that left', async () => {
    const shared = createSharedFetch();
    const f = controlledFetch();
    const running = shared('m', f.work);
    await delay(1);
    const gone = new AbortController();
    const left = shared('m', f.work, gone.signal);
    gone.abort(new Error('cancelled by another job'));
    await assert.rejects(left, /cancelled by another job/);
    const newcomer = shared('m', f.work);
    f.runs[0]!.release();
    await running;
    await delay(1);
    assert.equal(f.runs.length, 2, 'the abandoned fetch never ran; the newcomer got one');
    f.runs[1]!.release();
    assert.equal((await newcomer).sharedBy, 1);
  });
});
