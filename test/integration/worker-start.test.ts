import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../src/temporal/dev-server.js';
import { startWorker } from '../../src/worker.js';
import { testConfig } from '../support/harness.js';

/** Command lines of this process's children that are Drover's git spawner. */
function spawnerChildren(): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return ppid === process.pid && cmd.includes('spawner-child') ? [cmd] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

describe('a worker that cannot reach Temporal', () => {
  it('fails with ServerUnavailable and lets go of what it made: the spawner ends, the data dir is unlocked', async () => {
    const config = testConfig(`127.0.0.1:${await freePort()}`);
    // A mirror from an earlier run: the start reads its branches, so the spawner is running when the connect fails.
    execFileSync('git', ['init', '-q', '--bare', join(config.dataDir, 'mirrors', 'earlier.git')]);
    for (const attempt of [1, 2]) {
      // The second start would fail on the data-dir lock if the first had kept it.
      await assert.rejects(startWorker(config), (err: { type?: string; message?: string }) => {
        assert.equal(err.type, 'ServerUnavailable', `attempt ${attempt}: ${err.message}`);
        assert.match(err.message ?? '', /cannot reach Temporal at 127\.0\.0\.1:/);
        return true;
      });
    }
    const deadline = Date.now() + 5_000;
    while (spawnerChildren().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(spawnerChildren(), [], 'no spawner left running');
  });
});
