import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it, after } from 'node:test';
import { freePort } from '../../src/temporal/dev-server.js';
import { drover, git, makeRepo, REPO_ROOT, testConfig } from '../support/harness.js';

/** `drover dev` as a user runs it; resolves with the process and its banner once it is ready. */
function startDev(env: Record<string, string>, port: number, uiPort: number): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn(process.execPath, [`${REPO_ROOT}/bin/drover.js`, 'dev', '--port', String(port), '--ui-port', String(uiPort)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let banner = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      banner += d.toString();
      if (banner.includes('Press Ctrl-C to stop.')) resolve({ child, banner });
    });
    child.on('exit', (code) => reject(new Error(`drover dev exited with ${code}: ${banner}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });

describe('drover dev', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('runs server, UI and worker in one command, and keeps jobs across a restart', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const config = testConfig(`127.0.0.1:${port}`, { taskQueue: 'drover' });
    const env = { DROVER_DATA_DIR: config.dataDir, DROVER_TASK_QUEUE: 'drover' };
    const first = await startDev(env, port, uiPort);
    children.push(first.child);
    assert.match(first.banner, new RegExp(`Temporal UI\\s+http://localhost:${uiPort}`));
    assert.match(first.banner, /Worker\s+\S+ on queues drover and drover@/);
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);

    const repo = makeRepo();
    const submitted = await drover(config, [
      'submit',
      '--repo',
      repo,
      '--prompt',
      'Add a file',
      '--agent',
      'command',
      '--agent-command',
      'echo hi > hi.txt',
      '--validate',
      'test -f hi.txt',
      '--wait',
      '--json',
    ]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const report = JSON.parse(submitted.stdout);
    assert.equal(report.result.status, 'succeeded');
    assert.match(report.uiUrl, new RegExp(`^http://localhost:${uiPort}/namespaces/default/workflows/`));
    assert.equal(git(repo, 'show', `${report.result.branch}:hi.txt`), 'hi');

    assert.equal(await stop(first.child), 0);
    const second = await startDev(env, port, uiPort);
    children.push(second.child);
    const listed = await drover(config, ['list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const jobs = JSON.parse(listed.stdout) as { jobId: string; phase: string }[];
    assert.deepEqual(
      jobs.map((j) => [j.jobId, j.phase]),
      [[report.jobId, 'succeeded']],
    );

    const failing = await drover(config, [
      'submit',
      '--repo',
      repo,
      '--prompt',
      'Fail',
      '--agent',
      'command',
      '--agent-command',
      'true',
      '--validate',
      'false',
      '--max-revisions',
      '0',
      '--wait',
    ]);
    assert.equal(failing.code, 1, 'submit --wait exits non-zero when the job did not succeed');
    assert.match(failing.stdout, /^status\s+failed$/m);
    assert.match(failing.stderr, /^submitted job-.*\n {2}ui: http:\/\/localhost:\d+\/namespaces\/default\/workflows\/job-/);
    assert.match(failing.stderr, /\] failed$/m);
    assert.equal(await stop(second.child), 0);
  });
});
