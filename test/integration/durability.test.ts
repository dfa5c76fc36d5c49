import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DroverClient } from '../../src/client.js';
import { dataPaths } from '../../src/config/paths.js';
import {
  agentScript,
  git,
  isAlive,
  makeRepo,
  startTestEnv,
  startTestServer,
  tempDir,
  testConfig,
  waitFor,
  workerProcess,
} from '../support/harness.js';

const NO_DOCKER = { DROVER_DOCKER: '0' };

describe('durability', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  /** A server and a client; the test starts its workers as separate processes it can kill. */
  async function serverWithoutWorker() {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const config = testConfig(server.address);
    const client = await DroverClient.connect(config);
    cleanups.push(() => client.close());
    return { config, client, marks: tempDir('drover-marks-') };
  }

  it('survives kill -9 of the worker during the agent run: a new worker completes the job with one commit', async () => {
    const { config, client, marks } = await serverWithoutWorker();
    // The first run records its pid and hangs; a re-run finds the record and finishes at once.
    const agent = agentScript(`
if [ -f "$MARKS/first.pid" ]; then echo rerun >> "$MARKS/runs"; echo done > result.txt; exit 0; fi
echo $$ > "$MARKS/first.pid"
echo first >> "$MARKS/runs"
sleep 600`);

    const first = await workerProcess(config, 'box-1', NO_DOCKER);
    cleanups.push(async () => first.kill('SIGKILL'));
    const repo = makeRepo();
    const { jobId } = await client.submit({
      repo,
      prompt: 'Survive a crash',
      agent: { kind: 'command', argv: ['bash', agent], env: { MARKS: marks } },
      timeouts: { heartbeat: '3s' },
    });
    const firstPid = await waitFor('the first agent run', () =>
      existsSync(join(marks, 'first.pid')) ? Number(readFileSync(join(marks, 'first.pid'), 'utf8')) : undefined,
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    assert.ok(isAlive(firstPid), 'the orphaned agent outlives its worker until the retry cleans it up');

    // Same worker id (same machine restarting): it owns the worktree's queue.
    const second = await workerProcess(config, 'box-1', NO_DOCKER);
    cleanups.push(async () => second.kill('SIGTERM'));
    const result = await client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.attempts, 1, 'the restarted worker kept the worktree it still holds (its sweep left it alone)');
    assert.equal(git(repo, 'rev-list', '--count', `main..drover/${jobId}`), '1');
    assert.equal(git(repo, 'show', `drover/${jobId}:result.txt`), 'done');
    assert.deepEqual(readFileSync(join(marks, 'runs'), 'utf8').trim().split('\n'), ['first', 'rerun']);
    assert.equal(isAlive(firstPid), false, 'the retry killed the orphaned first run');
  });

  it('keeps a job waiting for an answer across a dev server restart (same db file), then completes it', async () => {
    let server = await startTestServer();
    const port = Number(server.address.split(':')[1]);
    const dbFile = server.dbFile;
    cleanups.push(() => server.stop());
    const env = await startTestEnv(server.address);
    cleanups.push(() => env.stop());
    const agent = agentScript(`
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then printf '{"question": "Proceed?"}' > .drover/question.json; exit 0; fi
cp "$DROVER_ANSWER_FILE" answer.txt`);
    const repo = makeRepo();
    const { jobId } = await env.client.submit({ repo, prompt: 'Ask first', agent: { kind: 'command', argv: ['bash', agent] } });
    await waitFor('the question', async () => (await env.client.status(jobId)).status?.pendingQuestion ?? undefined);

    await server.stop();
    server = await startTestServer({ port, dbFile });
    const client = await DroverClient.connect(env.config);
    cleanups.push(() => client.close());
    const report = await waitFor('the restarted server to serve the job', async () => {
      const r = await client.status(jobId).catch(() => undefined);
      return r?.status ? r : undefined;
    });
    assert.equal(report.execution, 'RUNNING');
    assert.equal(report.status?.pendingQuestion, 'Proceed?');

    await client.answer(jobId, 'yes, go ahead');
    const result = await client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(git(repo, 'show', `drover/${jobId}:answer.txt`), 'yes, go ahead');
  });

  it('starts the job over on another worker when the one holding the worktree is gone, and says so in the history', async () => {
    const { config, client, marks } = await serverWithoutWorker();
    const agent = agentScript(`
echo "$DROVER_WORKTREE" >> "$MARKS/runs"
if [ "$(wc -l < "$MARKS/runs")" -lt 2 ]; then sleep 600; fi
echo moved > moved.txt`);

    const doomed = await workerProcess(config, 'box-a', NO_DOCKER);
    cleanups.push(async () => doomed.kill('SIGKILL'));
    const repo = makeRepo();
    const { jobId } = await client.submit({
      repo,
      prompt: 'Move house',
      agent: { kind: 'command', argv: ['bash', agent], env: { MARKS: marks } },
      timeouts: { heartbeat: '2s', workerPickup: '3s' },
    });
    await waitFor('the first run', () => existsSync(join(marks, 'runs')) || undefined);
    doomed.kill('SIGKILL');
    await new Promise((r) => doomed.once('exit', r));

    // A different machine: it cannot take box-a's tasks, so the job must start over on it.
    const other = await workerProcess({ ...config, dataDir: tempDir('drover-data-b-') }, 'box-b', NO_DOCKER);
    cleanups.push(async () => other.kill('SIGTERM'));
    const result = await client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.attempts, 2);
    assert.equal(git(repo, 'rev-list', '--count', `main..drover/${jobId}`), '1');
    assert.equal(git(repo, 'show', `drover/${jobId}:moved.txt`), 'moved');

    const history = await client.handle(jobId).fetchHistory();
    const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes);
    const summaries = await Promise.all(
      timers.map((e) =>
        e.userMetadata?.summary
          ? client.client.options.loadedDataConverter.payloadConverter.fromPayload<string>(e.userMetadata.summary)
          : '',
      ),
    );
    assert.ok(
      summaries.some((s) => /worker box-a is gone; starting the job over \(attempt 2\)/.test(s)),
      summaries.join(' | '),
    );

    // box-a comes back: the job it held finished elsewhere, so it sweeps what the crash left behind.
    const paths = dataPaths(config.dataDir);
    const left = [paths.worktree(jobId), paths.jobGitDir(jobId), paths.jobRunDir(jobId)];
    assert.ok(
      left.every((p) => existsSync(p)),
      'the crash left the worktree, git and run directories',
    );
    const back = await workerProcess(config, 'box-a', NO_DOCKER);
    cleanups.push(async () => back.kill('SIGTERM'));
    await waitFor('box-a to sweep', () => (left.every((p) => !existsSync(p)) ? true : undefined), 30_000);
    assert.ok(existsSync(paths.jobLog(jobId)), 'the job log stays');
  });
});
