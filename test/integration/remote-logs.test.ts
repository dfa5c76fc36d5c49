/**
 * `drover logs` on a machine other than the worker's: a second, empty data dir stands for that machine, so
 * the log can only come through Temporal from the worker that ran the job.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DroverConfig } from '../../src/config/schema.js';
import { dataPaths } from '../../src/config/paths.js';
import {
  REPO_ROOT,
  type Run,
  type TestEnv,
  type TestServer,
  agentScript,
  drover,
  makeRepo,
  startTestEnv,
  startTestServer,
  tempDir,
  waitFor,
} from '../support/harness.js';
import { type DroverWorker, startWorker } from '../../src/worker.js';

/** `drover logs -f`, with its output readable while it runs. */
function follow(config: DroverConfig, jobId: string): { stdout: () => string; done: Promise<Run> } {
  const child = spawn(process.execPath, [`${REPO_ROOT}/bin/drover.js`, 'logs', '-f', jobId], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.temporal.address,
      DROVER_TASK_QUEUE: config.taskQueue,
      DROVER_DATA_DIR: config.dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { stdout: () => stdout, done };
}

/** The one line `drover logs` fails with (bin/drover.js may add its own notice that it runs from source). */
function failureLines(r: Run): string[] {
  assert.notEqual(r.code, 0, r.stdout);
  return r.stderr.split('\n').filter((l) => l && !l.startsWith('drover: dist/'));
}

describe('drover logs from another machine', () => {
  let server: TestServer;
  let env: TestEnv;
  let other: DroverWorker | undefined;
  let stopped = false;
  let jobId: string;
  const gate = join(tempDir('drover-gate-'), 'go');
  let elsewhere: DroverConfig;
  before(async () => {
    server = await startTestServer();
    env = await startTestEnv(server.address);
    // Another machine: same server and queue, a data dir of its own with nothing in it.
    elsewhere = { ...env.config, dataDir: tempDir('drover-elsewhere-') };
  });
  after(async () => {
    if (!stopped) await env?.stop();
    await other?.shutdown();
    await server?.stop();
  });

  it('prints the log kept by the worker that runs the job', async () => {
    const agent = agentScript(`
echo "before the gate 1"
echo "before the gate 2"
while [ ! -e ${gate} ]; do sleep 0.1; done
echo "after the gate 1"
echo "after the gate 2"
echo done > out.txt`);
    ({ jobId } = await env.client.submit({ repo: makeRepo(), prompt: 'print lines', agent: { kind: 'command', argv: ['bash', agent] } }));
    const localLog = dataPaths(env.config.dataDir).jobLog(jobId);
    await waitFor(
      'the first lines in the worker log',
      () => existsSync(localLog) && readFileSync(localLog, 'utf8').includes('before the gate 2'),
    );

    const once = await drover(elsewhere, ['logs', jobId]);
    assert.equal(once.code, 0, once.stderr);
    assert.match(once.stdout, /agent {3}.*before the gate 1\n.*before the gate 2\n/);
    assert.doesNotMatch(once.stdout, /after the gate/);
    const raw = await drover(elsewhere, ['logs', jobId, '--json']);
    assert.equal(raw.code, 0, raw.stderr);
    assert.ok(raw.stdout.split('\n').some((l) => l && JSON.parse(l).text === 'before the gate 2'));
  });

  it('follows it with -f until the job ends', async () => {
    const f = follow(elsewhere, jobId);
    await waitFor('-f to print the first lines', () => f.stdout().includes('before the gate 2'));
    writeFileSync(gate, '');
    const followed = await f.done;
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /before the gate 1\n.*before the gate 2\n(.*\n)*.*after the gate 1\n.*after the gate 2\n/);
    assert.equal(followed.stdout.split('before the gate 1').length, 2, 'each line once');
    assert.equal((await env.client.status(jobId)).execution, 'COMPLETED');

    // The page reads are workflows of their own; `drover list` shows jobs only.
    const list = await drover(elsewhere, ['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { jobId: string }[]).map((j) => j.jobId),
      [jobId],
    );
  });

  it('names the worker that holds the log when it is not running', async () => {
    // Another worker takes the read but cannot reach the stopped one's data dir.
    other = await startWorker({ ...env.config, workerId: 'w-other', dataDir: tempDir('drover-other-') });
    await env.stop();
    stopped = true;
    const notRunning = new RegExp(
      `^drover: the log of ${jobId} is on worker ${env.config.workerId}, which is not running \\(no poller on `,
    );
    const lines = failureLines(await drover(elsewhere, ['logs', jobId]));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, notRunning);

    // No worker at all: nobody takes the read.
    await other.shutdown();
    other = undefined;
    const none = failureLines(await drover(elsewhere, ['logs', jobId]));
    assert.equal(none.length, 1, none.join('\n'));
    assert.match(none[0]!, notRunning);
  });
});
