/**
 * OpenHands through the real SDK (openhands-sdk in the agent image, Python 3.13 of Debian trixie) and
 * Drover's driver, in the Docker runtime, against the scripted model server (Chat Completions as litellm
 * sends them). The container reaches the model server on 127.0.0.1 over the host network.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DroverClient } from '../../src/client.js';
import { dataPaths } from '../../src/config/paths.js';
import type { DroverConfig } from '../../src/config/schema.js';
import { connectEngine } from '../../src/runtimes/docker/engine.js';
import { buildAgentImage } from '../../src/runtimes/docker/image.js';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import type { ChildProcess } from 'node:child_process';
import {
  drover,
  git,
  historyText,
  makeRepo,
  startTestServer,
  tempDir,
  testConfig,
  waitFor,
  type TestServer,
  workerProcess,
} from '../support/harness.js';
import { requestText, startModelServer, type ModelServer } from '../support/model-server.js';

const MODEL = 'openai/scripted-model';

describe('openhands backend (real SDK, runtime docker)', () => {
  let server: TestServer;
  let model: ModelServer;
  let config: DroverConfig;
  let client: DroverClient;
  let configFile: string;
  let worker: ChildProcess | undefined;
  const apiKey = `sk-test-${randomBytes(16).toString('hex')}`;
  const workerEnv = () => ({ LLM_BASE_URL: `${model.url}/v1`, LLM_API_KEY: apiKey });

  before(async () => {
    await buildAgentImage(connectEngine(), { progress: (l) => process.stderr.write(`image: ${l}\n`) });
    server = await startTestServer();
    model = await startModelServer();
    config = testConfig(server.address, { docker: { envAllow: ['LLM_*'] } });
    configFile = join(tempDir('drover-oh-config-'), 'config.yaml');
    writeFileSync(
      configFile,
      `worker: { docker: true, backends: [command] }\ndocker: { network: host, poolSize: 1, envAllow: ["LLM_*"] }\nagents: { openhands: { model: ${MODEL} } }\n`,
    );
    client = await DroverClient.connect(config);
    worker = await workerProcess(config, 'oh-box', { DROVER_CONFIG: configFile, ...workerEnv() });
  });
  after(async () => {
    worker?.kill('SIGTERM');
    await client?.close();
    await model?.close();
    await server?.stop();
  });

  const job = (repo: string): JobSpecInput => ({
    repo,
    prompt: 'Write a greeting to greeting.txt',
    agent: { kind: 'openhands' },
    runtime: { kind: 'docker', env: ['LLM_BASE_URL', 'LLM_API_KEY'] },
    validate: [{ name: 'greeting exists', command: 'test -s greeting.txt' }],
    timeouts: { heartbeat: '5s' },
  });
  const agentStarts = (jobId: string) =>
    readFileSync(dataPaths(config.dataDir).jobLog(jobId), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; argv?: string[] })
      .filter((e) => e.source === 'drover' && Array.isArray(e.argv));

  it('edits with its file editor in a container, finishes, validates and commits; usage and conversation id in the result', async () => {
    model.script([{ write: { path: 'greeting.txt', content: 'Hello from OpenHands\n' } }, { say: 'Wrote greeting.txt.' }]);
    const repo = makeRepo();
    const { jobId } = await client.submit(job(repo));
    const result = await client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Hello from OpenHands');
    assert.match(result.agentSession ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(result.usage?.turns, 2);
    assert.equal(result.usage?.inputTokens, 260);
    const main = model.requests.filter((r) => r.main);
    assert.equal(main.at(-1)?.headers.authorization, `Bearer ${apiKey}`);
    const logs = await drover(config, ['logs', jobId]);
    assert.match(logs.stdout, /✎ create .*greeting\.txt/);
    assert.ok(!historyText(await client.handle(jobId).fetchHistory()).includes(apiKey), 'the API key is nowhere in the history');
  });

  it('after kill -9 of the worker, the retry resumes the persisted conversation', async () => {
    model.script([{ run: 'echo one > one.txt' }, { stall: true }]);
    const before = model.requests.filter((r) => r.main).length;
    const repo = makeRepo();
    const { jobId } = await client.submit(job(repo));
    await waitFor('the stalled second model call', () => model.requests.filter((r) => r.main).length - before >= 2 || undefined, 180_000);
    // The conversation id reaches the server in a heartbeat (sent at most every 80% of the heartbeat timeout).
    await waitFor(
      'a heartbeat with the first command',
      async () => (await client.status(jobId)).activity?.progress?.includes('echo one') || undefined,
      30_000,
    );
    const first = agentStarts(jobId)[0]!;
    worker!.kill('SIGKILL');
    await new Promise((r) => worker!.once('exit', r));

    // The resumed conversation still has the first run's command in what it sends the model.
    model.script([
      (req) =>
        requestText(req).includes('echo one > one.txt')
          ? { write: { path: 'greeting.txt', content: 'resumed\n' } }
          : { say: 'lost the conversation' },
      { say: 'Done.' },
    ]);
    worker = await workerProcess(config, 'oh-box', { DROVER_CONFIG: configFile, ...workerEnv() });
    const result = await client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'resumed');
    assert.equal(git(repo, 'show', `drover/${jobId}:one.txt`), 'one');
    const starts = agentStarts(jobId);
    assert.equal(starts.length, 2);
    assert.ok(!first.argv!.includes('--conversation'));
    assert.ok(starts[1]!.argv!.join(' ').includes(`--conversation ${result.agentSession}`), starts[1]!.argv!.join(' '));
  });
});
