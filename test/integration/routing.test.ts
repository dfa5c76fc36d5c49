/**
 * Jobs go to workers that have their backend: a worker without it never runs them, the job waits visibly
 * while no worker has it, and starting one that does runs it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { dataPaths } from '../../src/config/paths.js';
import { agentWorkerEnv } from '../support/agent-env.js';
import { drover, git, makeRepo, startTestEnv, startTestServer, waitFor, type TestEnv, type TestServer } from '../support/harness.js';
import { startModelServer, type ModelServer } from '../support/model-server.js';

describe('routing by backend', () => {
  let server: TestServer;
  let model: ModelServer;
  let plain: TestEnv;
  let capable: TestEnv | undefined;

  before(async () => {
    server = await startTestServer();
    model = await startModelServer();
    plain = await startTestEnv(server.address, { worker: { backends: ['command'] } });
  });
  after(async () => {
    await capable?.stop();
    await plain?.stop();
    await model?.close();
    await server?.stop();
  });

  it('leaves a claude-code job to a worker that has Claude Code, saying so while there is none', async () => {
    assert.deepEqual(
      plain.worker.backends.map((b) => b.kind),
      ['command'],
    );
    model.script([{ write: { path: 'greeting.txt', content: 'routed\n' } }, { say: 'Done.' }]);
    const repo = makeRepo();
    const { jobId } = await plain.client.submit({ repo, prompt: 'Write a greeting', agent: { kind: 'claude-code' } });

    const queue = `${plain.config.taskQueue}:claude-code`;
    const report = await waitFor('status to say no worker has the backend', async () => {
      const r = await plain.client.status(jobId);
      return r.note?.includes('no worker polls it') ? r : undefined;
    });
    assert.equal(report.phase, 'preparing');
    assert.equal(report.status?.waitingFor, `a worker with the claude-code backend (task queue ${queue})`);
    const cli = await drover(plain.config, ['status', jobId]);
    assert.match(
      cli.stdout,
      new RegExp(`note\\s+waiting for a worker with the claude-code backend \\(task queue ${queue}\\): no worker polls it`),
    );
    assert.equal(
      existsSync(dataPaths(plain.config.dataDir).jobLog(jobId)),
      false,
      'the worker without the backend did nothing for the job',
    );

    capable = await startTestEnv(
      server.address,
      {
        taskQueue: plain.config.taskQueue,
        worker: { backends: ['claude-code'] },
        agents: { 'claude-code': { model: 'claude-sonnet-4-5' } },
      },
      agentWorkerEnv(model, 'sk-ant-routing-test-key'),
    );
    assert.match(capable.worker.backends[0]?.version ?? '', /^\d+\.\d+\.\d+/);
    const result = await plain.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'routed');

    const history = await plain.client.handle(jobId).fetchHistory();
    const identities = (history.events ?? []).flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.identity ?? ''] : [],
    );
    assert.ok(identities.length >= 4);
    for (const id of identities) assert.ok(!id.includes(plain.worker.workerId), `${id} is not the worker without the backend`);
    assert.equal(existsSync(dataPaths(plain.config.dataDir).jobLog(jobId)), false);
    assert.equal(existsSync(dataPaths(capable.config.dataDir).jobLog(jobId)), true);
  });

  it('refuses to start a worker that is told to offer a backend whose CLI it cannot run', async () => {
    await assert.rejects(
      startTestEnv(server.address, { worker: { backends: ['codex'] }, agents: { codex: { command: 'no-such-codex-binary' } } }),
      /worker\.backends asks for codex \(no-such-codex-binary not found on PATH\)/,
    );
  });
});
