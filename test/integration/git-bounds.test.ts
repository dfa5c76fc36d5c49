/**
 * Git that cannot hang a job or a repository, and cancels that leave nothing behind: the real dev server,
 * real git (a silent TCP listener as a remote that never answers), real processes and the real Docker engine.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchTag, processTag } from '../../src/shared/ids.js';
import { randomBytes } from 'node:crypto';
import { DroverClient, WORKFLOW_TYPE } from '../../src/client.js';
import { JobInput } from '../../src/shared/schemas.js';
import { dataPaths } from '../../src/config/paths.js';
import type { DroverConfig } from '../../src/config/schema.js';
import { connectEngine } from '../../src/runtimes/docker/engine.js';
import { buildAgentImage } from '../../src/runtimes/docker/image.js';
import { taggedPids, TAG_ENV } from '../../src/runtimes/process-tags.js';
import {
  git,
  isAlive,
  makeRepo,
  run,
  startSilentServer,
  startTestEnv,
  startTestServer,
  tempDir,
  testConfig,
  waitFor,
  type TestEnv,
  type TestServer,
} from '../support/harness.js';

const docker = async (...args: string[]) => (await run('docker', args)).stdout.trim();
const containersOf = async (jobId: string) =>
  (await docker('ps', '-aq', '--filter', `label=drover.job=${jobId}`)).split('\n').filter(Boolean);
const jobProcesses = (jobId: string) => taggedPids(TAG_ENV, processTag(jobId));

/** What a job can leave on a worker: its worktree, git and run directories, a slot, a half-made mirror, processes, a container. */
async function leftovers(config: DroverConfig, jobId: string): Promise<string[]> {
  const paths = dataPaths(config.dataDir);
  const found: string[] = [];
  for (const p of [paths.worktree(jobId), paths.jobGitDir(jobId), paths.jobRunDir(jobId)]) if (existsSync(p)) found.push(p);
  const slots = existsSync(paths.dockerSlots()) ? readdirSync(paths.dockerSlots()) : [];
  for (const slot of slots) if (existsSync(join(paths.dockerSlots(), slot, jobId))) found.push(join(paths.dockerSlots(), slot));
  const mirrors = existsSync(paths.mirrors()) ? readdirSync(paths.mirrors()) : [];
  found.push(...mirrors.filter((m) => m.includes('.tmp-')).map((m) => join(paths.mirrors(), m)));
  found.push(...(await jobProcesses(jobId)).map((pid) => `process ${pid}`));
  found.push(...(await containersOf(jobId)).map((c) => `container ${c}`));
  return found;
}

/** Waits for a cancelled job to close and its worker to remove what it had; returns whatever is still left. */
async function leftAfterCancel(env: TestEnv, jobId: string): Promise<string[]> {
  await waitFor('the job to end', async () => ((await env.client.status(jobId)).execution === 'CANCELLED' ? true : undefined), 30_000);
  const gone = async () => ((await leftovers(env.config, jobId)).length === 0 ? true : undefined);
  await waitFor('what the job had to be removed', gone, 15_000).catch(() => undefined);
  return leftovers(env.config, jobId);
}

const closed = (env: TestEnv, jobId: string) =>
  waitFor(
    'the job to end',
    async () => {
      const r = await env.client.status(jobId);
      return r.execution === 'RUNNING' ? undefined : r;
    },
    120_000,
  );

describe('bounded git', () => {
  let server: TestServer;
  let env: TestEnv;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;

  before(async () => {
    await buildAgentImage(connectEngine(), { progress: (l) => process.stderr.write(`image: ${l}\n`) });
    server = await startTestServer();
    silent = await startSilentServer();
    env = await startTestEnv(server.address, {
      worker: { docker: true },
      docker: { poolSize: 0 },
      git: { timeouts: { clone: '3s', fetch: '3s' } },
    });
  });
  after(async () => {
    await env?.stop();
    await silent?.close();
    await server?.stop();
  });

  it('a fetch from a remote that never answers fails within its timeout as GitFailed; a job on another repository is not delayed', async (t) => {
    const started = Date.now();
    const hung = await env.client.submit({
      repo: `git://127.0.0.1:${silent.port}/repo.git`,
      prompt: 'x',
      agent: { kind: 'command', command: 'true' },
    });
    const firstFailure = await waitFor(
      'the first attempt to time out',
      async () => (await env.client.status(hung.jobId)).activity?.lastFailure,
      30_000,
    );
    const firstMs = Date.now() - started;
    assert.match(firstFailure, /git fetch timed out after 3s \(git\.timeouts\.clone\)/);
    assert.ok(firstMs < 3_000 + 10_000, `first attempt failed after ${firstMs} ms`);

    // While the hung repository is retried, a job on another repository runs through at its usual pace.
    const other = Date.now();
    const ok = await env.client.submit({ repo: makeRepo(), prompt: 'x', agent: { kind: 'command', command: 'echo hi > hi.txt' } });
    const result = await env.client.result(ok.jobId);
    const otherMs = Date.now() - other;
    assert.equal(result.status, 'succeeded');
    assert.equal((await env.client.status(hung.jobId)).execution, 'RUNNING', 'the hung job was still retrying meanwhile');
    assert.ok(otherMs < 15_000, `the other job took ${otherMs} ms`);

    const report = await closed(env, hung.jobId);
    assert.equal(report.failure?.type, 'GitFailed', JSON.stringify(report.failure));
    assert.match(report.failure?.message ?? '', /timed out after 3s/);
    assert.ok(silent.connections() >= 2, 'every attempt really connected');
    assert.deepEqual(await leftovers(env.config, hung.jobId), [], 'no half-made mirror, no git process');
    t.diagnostic(
      `first attempt timed out after ${firstMs} ms; the other job took ${otherMs} ms; the hung job failed after ${Date.now() - started} ms (5 attempts)`,
    );
  });

  for (const runtime of ['host', 'docker'] as const) {
    it(`a cancel during prepare (${runtime}) leaves nothing behind`, async () => {
      const repo = `git://127.0.0.1:${silent.port}/cancel-${runtime}.git`;
      const slow = await startTestEnv(server.address, {
        taskQueue: `${env.config.taskQueue}-p${runtime}`,
        worker: { docker: true },
        docker: { poolSize: 0 },
        git: { timeouts: { clone: '5m' } },
      });
      try {
        const { jobId } = await slow.client.submit({
          repo,
          prompt: 'x',
          agent: { kind: 'command', command: 'true' },
          runtime: runtime === 'docker' ? { kind: 'docker' } : { kind: 'host' },
        });
        // Mid-prepare: git is hanging on the remote (and, in docker, the job's container exists).
        // The fetch jobs share carries the mirror's tag, not the job's.
        const fetching = () => taggedPids(TAG_ENV, fetchTag(dataPaths(slow.config.dataDir).mirror(repo)));
        await waitFor('git to hang in prepare', async () => ((await fetching()).length > 0 ? true : undefined));
        if (runtime === 'docker') assert.equal((await containersOf(jobId)).length, 1, 'the container was made before the fetch');
        assert.ok(
          (await leftovers(slow.config, jobId)).some((l) => l.includes('.tmp-')),
          'prepare was making a mirror',
        );
        await slow.client.cancel(jobId);
        assert.deepEqual(await leftAfterCancel(slow, jobId), []);
        assert.deepEqual(await fetching(), [], 'the fetch nobody waits for any more is stopped');
      } finally {
        await slow.stop();
      }
    });
  }

  for (const runtime of ['host', 'docker'] as const) {
    it(`a cancel during validation (${runtime}) stops the check and leaves nothing behind`, async () => {
      const marks = tempDir('drover-marks-');
      const check = runtime === 'host' ? `sleep 600 & echo $! > ${marks}/check.pid; echo checking; wait` : 'echo checking; sleep 600';
      const { jobId } = await env.client.submit({
        repo: makeRepo(),
        prompt: 'x',
        agent: { kind: 'command', command: 'echo changed > hello.txt' },
        validate: [{ name: 'slow', command: check }],
        runtime: runtime === 'docker' ? { kind: 'docker' } : { kind: 'host' },
      });
      const log = dataPaths(env.config.dataDir).jobLog(jobId);
      // The line the check printed (the logged command line holds the word too).
      await waitFor('the check to run', () =>
        existsSync(log) && readFileSync(log, 'utf8').includes('"stream":"stdout","text":"checking"') ? true : undefined,
      );
      const pid = runtime === 'host' ? Number(readFileSync(join(marks, 'check.pid'), 'utf8')) : undefined;
      const container = runtime === 'docker' ? (await containersOf(jobId))[0] : undefined;
      if (runtime === 'docker') assert.ok(container, 'the job has its container');
      await env.client.cancel(jobId);
      if (pid) await waitFor('the check to die', () => (!isAlive(pid) ? true : undefined), 5_000);
      assert.deepEqual(await leftAfterCancel(env, jobId), []);
    });
  }

  it('a cancel during commit stops the push (and the hook it waits on) and leaves nothing behind', async () => {
    const marks = tempDir('drover-marks-');
    const origin = makeRepo();
    const hook = join(origin, '.git', 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\necho $$ > ${marks}/hook.pid\nsleep 600\n`);
    chmodSync(hook, 0o755);
    const { jobId } = await env.client.submit({
      repo: origin,
      prompt: 'x',
      agent: { kind: 'command', command: 'echo changed > hello.txt' },
      runtime: { kind: 'host' },
    });
    const pid = await waitFor('the push to wait on the remote hook', () =>
      existsSync(join(marks, 'hook.pid')) ? Number(readFileSync(join(marks, 'hook.pid'), 'utf8')) : undefined,
    );
    assert.equal((await env.client.status(jobId)).phase, 'committing');
    await env.client.cancel(jobId);
    await waitFor('the push and its hook to stop', () => (!isAlive(pid) ? true : undefined), 10_000);
    assert.deepEqual(await leftAfterCancel(env, jobId), []);
    assert.throws(() => git(origin, 'rev-parse', '--verify', '--quiet', `refs/heads/drover/${jobId}`), 'the branch was not pushed');
  });

  it("a worker refuses a local repository where jobs write (a container's slot) or owned by another user", async () => {
    const inData = join(dataPaths(env.config.dataDir).dockerSlots(), 'planted');
    mkdirSync(inData, { recursive: true });
    git(inData, 'init', '-q');
    const foreign = makeRepo();
    await run('chown', ['-R', '1000:1000', foreign]);
    await assert.rejects(env.client.submit({ repo: foreign, prompt: 'x', agent: { kind: 'command', command: 'true' } }), {
      type: 'RepoNotAllowed',
      message: /belongs to uid 1000, not to this user/,
    });
    // A submitter elsewhere (another user, another machine) gets past its own checks: the worker has its own.
    for (const [repo, why] of [
      [inData, /is where this worker keeps jobs' files/],
      [foreign, /belongs to uid 1000, not to this user/],
    ] as const) {
      const jobId = `local-${randomBytes(4).toString('hex')}`;
      const input = JobInput.parse({ id: jobId, repo, prompt: 'x', agent: { kind: 'command', command: 'true' } });
      await env.client.client.workflow.start(WORKFLOW_TYPE, { workflowId: jobId, taskQueue: env.config.taskQueue, args: [input] });
      const report = await closed(env, jobId);
      assert.equal(report.failure?.type, 'RepoNotAllowed', JSON.stringify(report.failure));
      assert.match(report.failure?.message ?? '', why);
    }
  });

  it("a worker refuses a repository outside its repos.allow even when the submitter's config allows it", async () => {
    const strict = await startTestEnv(server.address, { taskQueue: `${env.config.taskQueue}-strict`, repos: { allow: ['/nowhere/**'] } });
    const lenient = await DroverClient.connect(testConfig(server.address, { taskQueue: strict.config.taskQueue }));
    try {
      const { jobId } = await lenient.submit({ repo: makeRepo(), prompt: 'x', agent: { kind: 'command', command: 'true' } });
      const report = await waitFor('the job to end', async () => {
        const r = await lenient.status(jobId);
        return r.execution === 'RUNNING' ? undefined : r;
      });
      assert.equal(report.failure?.type, 'RepoNotAllowed', JSON.stringify(report.failure));
      assert.match(report.failure?.message ?? '', /is not in repos\.allow/);
      const history = await lenient.handle(jobId).fetchHistory();
      const retried = (history.events ?? []).some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
      assert.equal(retried, false, 'not retried');
    } finally {
      await lenient.close();
      await strict.stop();
    }
  });
});
