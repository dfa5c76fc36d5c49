import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerConfig } from '../../src/config/schema.js';
import type { Engine } from '../../src/runtimes/docker/engine.js';
import { DockerPool } from '../../src/runtimes/docker/pool.js';
import { tempDir } from '../support/harness.js';

/** The pool's bookkeeping only: an engine that keeps containers in a map. */
function fakeEngine() {
  const containers = new Map<string, Record<string, string>>();
  let n = 0;
  const engine: Partial<Engine> = {
    ping: async () => undefined,
    hasImage: async () => true,
    startContainer: async (plan) => {
      const id = `c${++n}`;
      containers.set(id, plan.labels);
      return id;
    },
    isRunning: async (id) => containers.has(id),
    remove: async (id) => void containers.delete(id),
    listByLabel: async (label, value) =>
      [...containers].filter(([, l]) => (value === undefined ? label in l : l[label] === value)).map(([id, labels]) => ({ id, labels })),
    run: async () => 0,
  };
  return { engine: engine as Engine, containers };
}

describe('docker pool', () => {
  it('keeps poolSize warm containers, hands one to a job, and refills after the job, also after a no-op fill', async () => {
    const { engine, containers } = fakeEngine();
    containers.set('old', { 'drover.worker': 'w1' });
    const pool = new DockerPool(engine, {
      workerId: 'w1',
      slotsDir: tempDir(),
      defaultImage: 'img',
      config: DockerConfig.parse({ poolSize: 2 }),
    });
    assert.deepEqual(await pool.start(), { removed: 1 }, 'leftovers of this worker are removed');
    await pool.warm();
    await pool.warm(); // a fill with nothing to do must not block later fills
    assert.equal(pool.idleCount(), 2);

    const first = await pool.claim('job-1');
    assert.equal(pool.idleCount(), 1, 'no refill while the job starts');
    // A prepare that runs again (a retry, a restart on this worker) never reuses a container processes of
    // the earlier attempt may still run in.
    const slot = await pool.claim('job-1');
    assert.notEqual(slot.container, first.container);
    assert.equal(containers.has(first.container), false, 'the earlier container is destroyed');
    await pool.release('job-1');
    assert.equal(containers.has(slot.container), false, 'the job container is destroyed');
    await pool.warm();
    assert.equal(pool.idleCount(), 2, 'refilled after the job');

    await pool.shutdown();
    assert.equal(containers.size, 0);
  });

  it('makes a container for a job whose container is gone, labelled with the job', async () => {
    const { engine, containers } = fakeEngine();
    const slots = tempDir();
    const pool = new DockerPool(engine, {
      workerId: 'w2',
      slotsDir: slots,
      defaultImage: 'img',
      config: DockerConfig.parse({ poolSize: 0 }),
    });
    await pool.start();
    const slot = await pool.claim('job-2');
    containers.delete(slot.container); // killed from outside
    const { made } = await pool.runtimeFor('job-2', `${slot.dir}/job-2`);
    assert.ok(made);
    assert.equal(containers.get(made!)?.['drover.job'], 'job-2');
  });
});
