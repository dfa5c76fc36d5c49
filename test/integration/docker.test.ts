/**
 * Runtime docker on a real Docker engine: the agent image built locally (once, cached), real containers,
 * the real dev server.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dataPaths } from '../../src/config/paths.js';
import type { DroverConfig } from '../../src/config/schema.js';
import { connectEngine } from '../../src/runtimes/docker/engine.js';
import { buildAgentImage } from '../../src/runtimes/docker/image.js';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import { DroverClient } from '../../src/client.js';
import { agentWorkerEnv } from '../support/agent-env.js';
import { startModelServer, type RecordedRequest } from '../support/model-server.js';
import {
  git,
  historyText,
  makeRepo,
  run,
  startTestEnv,
  startTestServer,
  tempDir,
  testConfig,
  waitFor,
  type TestEnv,
  type TestServer,
  workerProcess,
} from '../support/harness.js';

const docker = async (...args: string[]) => (await run('docker', args)).stdout.trim();
const containersOf = async (label: string) => (await docker('ps', '-aq', '--filter', `label=${label}`)).split('\n').filter(Boolean);
/** The job's container, as the job log names it (12 hex digits). */
const containerOf = (config: DroverConfig, jobId: string) => /in container ([0-9a-f]{12})/.exec(logOf(config, jobId))?.[1];
const logOf = (config: DroverConfig, jobId: string) => {
  const file = dataPaths(config.dataDir).jobLog(jobId);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

describe('runtime docker', () => {
  let server: TestServer;
  let env: TestEnv;
  let image: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    // Built once per machine (minutes the first time), then found by its tag.
    image = (await buildAgentImage(connectEngine(), { progress: (l) => process.stderr.write(`image: ${l}\n`) })).tag;
    server = await startTestServer();
    env = await startTestEnv(server.address, { worker: { docker: true }, docker: { poolSize: 1 } });
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await env?.stop();
    await server?.stop();
  });

  const dockerJob = (repo: string, agent: string, extra: Partial<JobSpecInput> = {}): JobSpecInput => ({
    repo,
    prompt: 'Edit hello.txt',
    agent: { kind: 'command', command: agent },
    runtime: { kind: 'docker' },
    ...extra,
  });

  it('runs the core job in a container: edit, validate, commit, cleanup; the commit has the same content as on the host', async () => {
    const agent = 'echo edited > hello.txt; mkdir -p src && echo "x = 1" > src/x.py';
    const validate = [{ name: 'edited', command: 'grep -q edited hello.txt && test -f src/x.py' }];
    const repo = makeRepo();
    const inBox = await env.client.submit(dockerJob(repo, agent, { validate }));
    const onHost = await env.client.submit({ repo, prompt: 'Edit hello.txt', agent: { kind: 'command', command: agent }, validate });
    const [boxed, hosted] = [await env.client.result(inBox.jobId), await env.client.result(onHost.jobId)];
    assert.equal(boxed.status, 'succeeded', JSON.stringify(boxed.failure));
    assert.equal(hosted.status, 'succeeded');
    assert.equal(git(repo, 'rev-parse', `${boxed.commit}^{tree}`), git(repo, 'rev-parse', `${hosted.commit}^{tree}`), 'identical content');
    assert.ok(logOf(env.config, inBox.jobId).includes(`(${image})`), 'the job ran in a container of the built image');
    assert.deepEqual(await containersOf(`drover.job=${inBox.jobId}`), [], 'no container of the job is left');
    const status = await env.client.status(inBox.jobId);
    assert.equal(status.execution, 'COMPLETED');
    const worktree = logOf(env.config, inBox.jobId).match(/worktree (\S+) on drover\//)?.[1];
    assert.ok(worktree && !existsSync(worktree), 'the worktree is removed');
  });

  it('asks and gets the answer in a container', async () => {
    const agent = `if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then printf '{"question": "Which greeting?"}' > .drover/question.json; exit 0; fi; cp "$DROVER_ANSWER_FILE" greeting.txt`;
    const repo = makeRepo();
    const { jobId } = await env.client.submit(dockerJob(repo, agent));
    await waitFor('the question', async () => (await env.client.status(jobId)).status?.pendingQuestion ?? undefined);
    await env.client.answer(jobId, 'Ahoy from the box');
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Ahoy from the box');
  });

  it('runs setup in the container, and restores its cache into the next job as files the agent may change', async () => {
    const repo = makeRepo({ 'deps.lock': 'v1\n', '.gitignore': 'deps/\n', 'hello.txt': 'hello\n' });
    const extra: Partial<JobSpecInput> = {
      setup: ['test -f deps/lib || { mkdir -p deps && id -u > deps/lib && echo built-now; }', 'id -u > .setup-uid'],
      cache: [{ key: ['deps.lock'], paths: ['deps'] }],
      validate: [{ name: 'deps', command: 'test -f deps/lib' }],
    };
    const agent = 'echo "$(cat deps/lib) $(cat .setup-uid)" > hello.txt; echo changed >> deps/lib; rm .setup-uid';
    const first = await env.client.submit(dockerJob(repo, agent, extra));
    const r1 = await env.client.result(first.jobId);
    assert.equal(r1.status, 'succeeded', JSON.stringify(r1.failure ?? r1.setup));
    assert.equal(git(repo, 'show', `drover/${first.jobId}:hello.txt`), '1000 1000', 'setup ran as the container user');
    assert.match(logOf(env.config, first.jobId), /"text":"built-now"/);
    assert.match(logOf(env.config, first.jobId), /cache \w+ saved: deps/);

    const second = await env.client.submit(dockerJob(repo, agent, extra));
    const r2 = await env.client.result(second.jobId);
    assert.equal(r2.status, 'succeeded', JSON.stringify(r2.failure ?? r2.setup));
    const log2 = logOf(env.config, second.jobId);
    assert.match(log2, /cache \w+ restored: deps/);
    assert.doesNotMatch(log2, /"text":"built-now"/, 'setup found the restored deps');
    // The agent appended to the restored file (it is the container user's); the cache itself is unchanged.
    const cached = readFileSync(
      join(dataPaths(env.config.dataDir).caches(), /cache (\w+) restored/.exec(log2)![1]!, 'files', 'deps', 'lib'),
      'utf8',
    );
    assert.equal(cached, '1000\n');
  });

  it('isolates the agent: no host file outside the worktree, no network, a non-root user', async () => {
    const marker = join(tempDir('drover-marker-'), 'secret-marker.txt');
    writeFileSync(marker, 'host secret\n');
    const agent = [
      `if cat ${marker} >/dev/null 2>&1; then echo readable; else echo unreadable; fi > marker.txt`,
      `if timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${server.address.split(':')[1]}' 2>/dev/null; then echo connected; else echo refused; fi > net.txt`,
      'id -u > uid.txt',
      `ls / > root.txt`,
    ].join('; ');
    const repo = makeRepo();
    const { jobId } = await env.client.submit(dockerJob(repo, agent));
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    const show = (f: string) => git(repo, 'show', `drover/${jobId}:${f}`);
    assert.equal(show('marker.txt'), 'unreadable');
    assert.equal(show('net.txt'), 'refused', 'no TCP connection, not even to the Temporal server on the host');
    assert.equal(show('uid.txt'), '1000');
    assert.ok(readFileSync(marker, 'utf8').includes('host secret'), 'the marker is really there on the host');
  });

  it('stops a memory hog at its limit and fails the job with a typed, non-retried error', async () => {
    const small = await startTestEnv(server.address, { worker: { docker: true }, docker: { poolSize: 0, memory: '96m' } });
    cleanups.push(() => small.stop());
    const hog = `node -e 'const a = []; for (;;) a.push(Buffer.alloc(16 * 1024 * 1024, 1))'`;
    const { jobId } = await small.client.submit(dockerJob(makeRepo(), hog));
    const report = await waitFor(
      'the job to end',
      async () => {
        const r = await small.client.status(jobId);
        return r.execution === 'RUNNING' ? undefined : r;
      },
      120_000,
    );
    assert.equal(report.failure?.type, 'AgentResourceLimit', JSON.stringify(report.failure));
    assert.match(report.failure?.message ?? '', /memory limit/);
    const history = await small.client.handle(jobId).fetchHistory();
    const attempts = (history.events ?? []).filter(
      (e) => e.activityTaskStartedEventAttributes?.attempt && e.activityTaskStartedEventAttributes.attempt > 1,
    );
    assert.equal(attempts.length, 0, 'not retried');
  });

  it('removes the container within 5 s of a cancel during the agent run, and the worktree too', async (t) => {
    const { jobId } = await env.client.submit(dockerJob(makeRepo(), 'echo working...; sleep 600'));
    await waitFor('the agent to run', () => (logOf(env.config, jobId).includes('working...') ? true : undefined));
    const container = containerOf(env.config, jobId);
    assert.ok(container);
    const worktree = logOf(env.config, jobId).match(/worktree (\S+) on drover\//)?.[1];
    const cancelled = Date.now();
    await env.client.cancel(jobId);
    await waitFor(
      'the agent process to stop',
      async () => {
        const running = await docker('exec', container!, 'pgrep', '-u', 'agent', 'sleep').catch(() => '');
        return running ? undefined : true;
      },
      5_000,
    ).catch(() => undefined);
    await waitFor('the job to end', async () => ((await env.client.status(jobId)).execution !== 'RUNNING' ? true : undefined), 30_000);
    await waitFor(
      'the job container to be gone',
      async () => (!(await docker('ps', '-aq', '--no-trunc')).includes(container!) ? true : undefined),
      5_000,
    );
    const goneMs = Date.now() - cancelled;
    assert.ok(goneMs < 5_000, `container gone ${goneMs} ms after the cancel`);
    t.diagnostic(`container gone ${goneMs} ms after the cancel request`);
    assert.ok(worktree && !existsSync(worktree), 'the worktree is removed');
    assert.equal((await env.client.status(jobId)).execution, 'CANCELLED');
  });

  it('fails the attempt of a container killed from outside; the retry gets a new container and the job succeeds', async () => {
    const agent = `if [ -f .drover-ran ]; then echo done > result.txt; exit 0; fi; touch .drover-ran; echo working...; sleep 600`;
    const repo = makeRepo();
    const { jobId } = await env.client.submit(dockerJob(repo, agent));
    await waitFor('the agent to run', () => (logOf(env.config, jobId).includes('working...') ? true : undefined));
    const container = containerOf(env.config, jobId);
    assert.ok(container);
    await docker('kill', container!);
    const result = await env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:result.txt`), 'done');
    assert.match(logOf(env.config, jobId), /made container [0-9a-f]{12} for the job: its container was gone/);
  });

  it('fails a job whose image is missing at once, with a typed error naming the image', async () => {
    const { jobId } = await env.client.submit(
      dockerJob(makeRepo(), 'true', { runtime: { kind: 'docker', image: 'drover-agent:no-such-tag', env: [] } }),
    );
    const report = await waitFor('the job to end', async () => {
      const r = await env.client.status(jobId);
      return r.execution === 'RUNNING' ? undefined : r;
    });
    assert.equal(report.failure?.type, 'DockerImageMissing');
    assert.match(report.failure?.message ?? '', /image drover-agent:no-such-tag is not on this Docker engine/);
  });

  it('gives a clear, typed error at worker start when the image is missing or no engine answers', async () => {
    await assert.rejects(
      startTestEnv(server.address, { worker: { docker: true }, docker: { image: 'drover-agent:no-such-tag' } }),
      /DockerImageMissing|image drover-agent:no-such-tag is not on this Docker engine; build it with `drover image build`/,
    );
    await assert.rejects(
      startTestEnv(server.address, { worker: { docker: true }, docker: { socket: '/tmp/no-docker-here.sock' } }),
      /no Docker engine answers at \/tmp\/no-docker-here\.sock/,
    );
  });

  it('runs the real Claude Code CLI from the image in a container, asks, and resumes its session with the answer', async () => {
    const model = await startModelServer();
    cleanups.push(() => model.close());
    const apiKey = `sk-ant-docker-${Date.now()}`;
    // network host: the scripted model server listens on the host's 127.0.0.1.
    const cli = await startTestEnv(
      server.address,
      {
        worker: { docker: true },
        docker: { poolSize: 1, network: 'host', envAllow: ['ANTHROPIC_*', 'CLAUDE_CODE_*'] },
        agents: { 'claude-code': { model: 'claude-sonnet-4-5' } },
      },
      agentWorkerEnv(model, apiKey),
    );
    cleanups.push(() => cli.stop());
    model.script([
      { ask: { question: 'Which greeting?', options: ['Hello', 'Howdy'] } },
      (req: RecordedRequest) => ({
        write: {
          path: 'greeting.txt',
          content: `${/=\\?"([^"\\]+)\\?"/.exec(JSON.stringify(req.body.messages?.at(-1)))?.[1] ?? 'no answer'}\n`,
        },
      }),
      { say: 'Done.' },
    ]);
    const repo = makeRepo();
    const { jobId } = await cli.client.submit({
      repo,
      prompt: 'Write a greeting to greeting.txt; ask me which',
      agent: { kind: 'claude-code' },
      runtime: {
        kind: 'docker',
        env: ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'CLAUDE_CODE_MAX_RETRIES', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC'],
      },
      validate: [{ name: 'greeting', command: 'test -s greeting.txt' }],
    });
    await waitFor('the question', async () => (await cli.client.status(jobId)).status?.pendingQuestion ?? undefined);
    await cli.client.answer(jobId, 'Howdy');
    const result = await cli.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Howdy');
    assert.match(logOf(cli.config, jobId), /resuming session [0-9a-f-]{36}/);
    assert.ok(result.usage && result.usage.inputTokens > 0);
    assert.ok(!historyText(await cli.client.handle(jobId).fetchHistory()).includes(apiKey), 'the key is not in the history');
  });

  it('a worker killed during a docker job: the next one removes the leftover containers and the job completes once', async () => {
    const config = testConfig(server.address);
    const client = await DroverClient.connect(config);
    cleanups.push(() => client.close());
    const start = () => workerProcess(config, 'box-docker', { DROVER_BACKENDS: 'command', DROVER_RUNTIME: 'docker' });
    const first = await start();
    cleanups.push(async () => first.kill('SIGKILL'));
    const agent = `if [ -f .drover-ran ]; then echo rerun >> runs.txt; echo done > result.txt; exit 0; fi; touch .drover-ran; echo first >> runs.txt; echo working...; sleep 600`;
    const repo = makeRepo();
    // No runtime in the job: the worker's default (DROVER_RUNTIME=docker) puts it in a container.
    const { jobId } = await client.submit({
      repo,
      prompt: 'Survive a crash',
      agent: { kind: 'command', command: agent },
      timeouts: { heartbeat: '3s' },
    });
    await waitFor('the agent to run', () => (logOf(config, jobId).includes('working...') ? true : undefined));
    assert.match(logOf(config, jobId), /in container [0-9a-f]{12}/, 'the worker default put the job in a container');
    const leftovers = await containersOf('drover.worker=box-docker');
    assert.ok(leftovers.length >= 1);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    assert.deepEqual(await containersOf('drover.worker=box-docker'), leftovers, 'the crash left its containers behind');

    const second = await start();
    cleanups.push(async () => second.kill('SIGTERM'));
    const result = await client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    const now = await containersOf('drover.worker=box-docker');
    for (const c of leftovers) assert.ok(!now.some((n) => c.startsWith(n) || n.startsWith(c)), `leftover ${c} was removed`);
    assert.equal(git(repo, 'rev-list', '--count', `main..drover/${jobId}`), '1', 'one commit');
    assert.equal(git(repo, 'show', `drover/${jobId}:runs.txt`), 'first\nrerun');
    assert.match(logOf(config, jobId), /made container [0-9a-f]{12} for the job/);
  });
});
