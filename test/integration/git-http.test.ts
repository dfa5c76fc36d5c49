/**
 * A job whose origin is on another host: a real HTTP git server behind Basic auth (git http-backend), a
 * worker in its own process holding the credential in its environment (GIT_ASKPASS), a URL and a job
 * without any.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DroverClient, type JobReport } from '../../src/client.js';
import { dataPaths } from '../../src/config/paths.js';
import type { DroverConfig } from '../../src/config/schema.js';
import { startGitHttpOrigin, type GitHttpOrigin } from '../support/git-http-origin.js';
import {
  git,
  historyText,
  makeRepo,
  startTestServer,
  tempDir,
  testConfig,
  waitFor,
  workerProcess,
  type TestServer,
} from '../support/harness.js';

/** The worker's own config: http is not among the default protocols, so it is enabled by name. */
const WORKER_CONFIG = 'worker: { backends: [command], docker: false }\ngit: { protocols: [http] }\n';

describe('a job on an origin served over http with credentials', () => {
  let server: TestServer;
  let origin: GitHttpOrigin;
  let configFile: string;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const workers: ChildProcess[] = [];
  const clients: DroverClient[] = [];

  before(async () => {
    server = await startTestServer();
    origin = await startGitHttpOrigin({ user: 'drover-bot', password });
    configFile = join(tempDir('drover-http-config-'), 'config.yaml');
    writeFileSync(configFile, WORKER_CONFIG);
  });
  after(async () => {
    // Stopped and waited for, so no worker is left polling a server that is going away.
    await Promise.all(workers.map(stopWorker));
    await Promise.all(clients.map((c) => c.close()));
    await origin?.stop();
    await server?.stop();
  });

  /** A worker process with the given askpass env, and a client (whose submit checks git.protocols too) on its queue. */
  async function hostWith(workerId: string, env: Record<string, string>): Promise<{ config: DroverConfig; client: DroverClient }> {
    const config = testConfig(server.address, { git: { protocols: ['http'] } });
    workers.push(await workerProcess(config, workerId, { DROVER_CONFIG: configFile, ...env }));
    const client = await DroverClient.connect(config);
    clients.push(client);
    return { config, client };
  }

  it('clones over http with the worker askpass, and pushes drover/<id> with one commit to the origin', async () => {
    const bare = origin.addBareRepo('origin', makeRepo());
    const main = git(bare, 'rev-parse', 'main');
    const { client } = await hostWith('http-box', origin.askpassEnv());
    const before = origin.requests();
    const repo = origin.url('origin');
    assert.doesNotMatch(repo, /@|drover-bot/, 'the URL carries no credential');

    const { jobId } = await client.submit({
      repo,
      prompt: 'Greet over http',
      agent: { kind: 'command', command: 'echo "hello over http" > hello.txt' },
    });
    const result = await client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.branch, `drover/${jobId}`);
    assert.equal(result.baseCommit, main);

    // The branch is in the bare repository on the origin's disk, exactly one commit on top of main.
    assert.equal(git(bare, 'rev-parse', `refs/heads/drover/${jobId}`), result.commit);
    assert.equal(git(bare, 'rev-list', '--count', `main..drover/${jobId}`), '1');
    assert.equal(git(bare, 'rev-parse', `drover/${jobId}^`), main);
    assert.equal(git(bare, 'show', `drover/${jobId}:hello.txt`), 'hello over http');

    // Both directions went through the server, authenticated.
    const served = origin.log().slice(before);
    const ok = (path: RegExp) => served.some((r) => r.status === 200 && r.user === 'drover-bot' && path.test(r.path));
    assert.ok(ok(/^\/origin\.git\/git-upload-pack$/), `a fetch was served: ${JSON.stringify(served)}`);
    assert.ok(ok(/^\/origin\.git\/git-receive-pack$/), `a push was served: ${JSON.stringify(served)}`);
    assert.ok(
      served.some((r) => r.status === 401),
      'git asked askpass only after the server demanded credentials',
    );

    const history = historyText(await client.handle(jobId).fetchHistory());
    assert.ok(!history.includes(password), 'the password is nowhere in the workflow history');
  });

  it('with a wrong password fails as a git authentication failure, without retrying, and never shows the password', async () => {
    const bare = origin.addBareRepo('private', makeRepo());
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    const { config, client } = await hostWith('http-bad-box', origin.askpassEnv({ password: wrong }));
    const before = origin.requests();
    const started = Date.now();
    const { jobId } = await client.submit({
      repo: origin.url('private'),
      prompt: 'never runs',
      agent: { kind: 'command', command: 'echo nope > nope.txt' },
    });
    const report = await waitFor(
      'the job to fail',
      async () => {
        const r = await client.status(jobId);
        return r.execution === 'RUNNING' ? undefined : r;
      },
      60_000,
    );
    const elapsedMs = Date.now() - started;
    assertAuthFailure(report, origin.url('private'));
    assert.ok(elapsedMs < 20_000, `failed after ${elapsedMs} ms`);

    const history = await client.handle(jobId).fetchHistory();
    const attempts = (history.events ?? []).flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
    );
    assert.deepEqual(attempts, [1], 'one attempt: a wrong credential stays wrong on a retry');

    const refused = origin.log().slice(before);
    assert.ok(refused.length > 0 && refused.every((r) => r.status === 401), `every request was refused: ${JSON.stringify(refused)}`);
    assert.throws(() => git(bare, 'rev-parse', '--verify', '--quiet', `drover/${jobId}`));

    const seen = [report.failure?.message ?? '', historyText(history), jobLog(config, jobId)].join('\n');
    for (const secret of [wrong, password]) assert.ok(!seen.includes(secret), 'no password in the failure, the history or the job log');
  });
});

/** The failure says what went wrong and where, as a type that does not retry. */
function assertAuthFailure(report: JobReport, url: string): void {
  assert.equal(report.execution, 'FAILED', JSON.stringify(report));
  assert.equal(report.failure?.type, 'GitAuthFailed', JSON.stringify(report.failure));
  assert.match(report.failure?.message ?? '', /Authentication failed/i);
  assert.ok(report.failure?.message.includes(url), `the message names the repository: ${report.failure?.message}`);
}

function jobLog(config: DroverConfig, jobId: string): string {
  const path = dataPaths(config.dataDir).jobLog(jobId);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.kill('SIGTERM');
  return exited;
}
