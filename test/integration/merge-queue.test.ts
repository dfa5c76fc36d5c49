import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DroverClient } from '../../src/client.js';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import {
  agentScript,
  drover,
  git,
  makeRepo,
  serverAndWorker,
  startTestEnv,
  startTestServer,
  tempDir,
  testConfig,
  waitFor,
  workerProcess,
} from '../support/harness.js';

/** A bare origin (pushing to a checked-out main is refused) seeded from a fresh repository. */
function bareOrigin(files?: Record<string, string>): string {
  const dir = join(tempDir('drover-origin-'), 'origin.git');
  git(tempDir(), 'clone', '-q', '--bare', makeRepo(files), dir);
  return dir;
}

/** A person's commit on the origin's main, made in a clone of their own. */
function personPushes(origin: string, file: string, content: string): string {
  const clone = join(tempDir('drover-person-'), 'work');
  git(tempDir(), 'clone', '-q', origin, clone);
  writeFileSync(join(clone, file), content);
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', `person edits ${file}`);
  git(clone, 'push', '-q', 'origin', 'main');
  return git(clone, 'rev-parse', 'HEAD');
}

const subjects = (origin: string, range: string) => git(origin, 'log', '--reverse', '--format=%s', range).split('\n').filter(Boolean);
const onlyIn = (job: string) => `case "$PWD" in *${job}*) ;; *) exit 0;; esac; `;

describe('the merge queue', () => {
  const ctx = serverAndWorker();
  const submit = (spec: Omit<JobSpecInput, 'agent'> & { agent?: JobSpecInput['agent'] }) =>
    ctx.env.client.submit({ agent: { kind: 'command', command: 'true' }, ...spec } as JobSpecInput);

  it('lands three jobs on main in the order they finish, each re-validated, linear, with trailers', async () => {
    const origin = bareOrigin();
    const marks = tempDir('drover-marks-');
    const base = git(origin, 'rev-parse', 'main');
    // Each check notes where it ran: the job's worktree, then the integration's worktree on the merged commit.
    const validate = [{ name: 'noted', command: `echo "$PWD" >> ${marks}/validated` }];
    const jobs = [];
    for (const [name, delay] of [
      ['a', 4],
      ['b', 0],
      ['c', 2],
    ] as const) {
      jobs.push(
        await submit({
          repo: origin,
          prompt: `Write ${name}.txt`,
          commitMessage: `add ${name}.txt`,
          agent: { kind: 'command', command: `sleep ${delay}; echo ${name} > ${name}.txt` },
          validate,
          integrate: { into: 'main' },
        }),
      );
    }
    const results = await Promise.all(jobs.map((j) => ctx.env.client.result(j.jobId)));
    for (const r of results) {
      assert.equal(r.status, 'succeeded');
      assert.equal(r.integration?.status, 'integrated');
    }
    // Arrival order is completion order: b (no delay), c, a.
    assert.deepEqual(subjects(origin, `${base}..main`), ['add b.txt', 'add c.txt', 'add a.txt']);
    assert.equal(git(origin, 'rev-list', '--merges', `${base}..main`), '', 'linear history');
    assert.equal(git(origin, 'rev-list', '--count', `${base}..main`), '3');
    for (const [i, job] of jobs.entries()) {
      const landed = results[i]!.integration!.commit!;
      const body = git(origin, 'log', '-1', '--format=%B', landed);
      assert.match(body, new RegExp(`^Drover-Job: ${job.jobId}$`, 'm'));
      assert.match(body, /^Drover-Integrated-Into: main$/m);
      // The job branch is as the job left it.
      assert.equal(git(origin, 'rev-parse', `drover/${job.jobId}`), results[i]!.commit);
      assert.equal(git(origin, 'merge-base', '--is-ancestor', landed, 'main'), '');
    }
    const validated = readFileSync(join(marks, 'validated'), 'utf8').split('\n');
    for (const job of jobs) {
      const run = new RegExp(`^${ctx.env.config.dataDir}/worktrees/${job.jobId}-[0-9a-f]{8}\\.integrate$`);
      assert.ok(
        validated.some((line) => run.test(line)),
        `${job.jobId} re-validated`,
      );
    }
    // Nothing force-pushed: each landing moved main forward from the one before.
    assert.equal(git(origin, 'log', '--first-parent', '--format=%H', `${base}..main`).split('\n').length, 3);

    const queue = await drover(ctx.env.config, ['queue', origin, '--json']);
    assert.equal(queue.code, 0, queue.stderr);
    const view = JSON.parse(queue.stdout) as { entries: { jobId: string; status: string }[] };
    assert.deepEqual(
      view.entries.map((e) => [e.jobId, e.status]),
      [jobs[1], jobs[2], jobs[0]].map((j) => [j!.jobId, 'integrated']),
    );
    const status = await drover(ctx.env.config, ['status', jobs[0]!.jobId]);
    assert.match(status.stdout, /integration\s+integrated into main as [0-9a-f]{12}/);
  });

  it('sends a conflicting job back to its agent, which resolves it; the job lands', async () => {
    const origin = bareOrigin();
    const base = git(origin, 'rev-parse', 'main');
    const first = await submit({
      repo: origin,
      prompt: 'first',
      agent: { kind: 'command', command: 'echo first > hello.txt' },
      integrate: { into: 'main' },
    });
    assert.equal((await ctx.env.client.result(first.jobId)).integration?.status, 'integrated');
    // Based on the old main: its edit of the same line conflicts. Sent back, it resolves the markers.
    const resolver = agentScript(`
if grep -q 'conflicts in: hello.txt' "$DROVER_PROMPT_FILE"; then printf 'first\\nsecond\\n' > hello.txt; else echo second > hello.txt; fi`);
    const second = await submit({
      repo: origin,
      base,
      prompt: 'second',
      agent: { kind: 'command', argv: ['bash', resolver] },
      integrate: { into: 'main' },
    });
    const result = await ctx.env.client.result(second.jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(result.integration?.status, 'integrated');
    assert.equal(result.integration?.sentBack, 1);
    assert.equal(git(origin, 'show', 'main:hello.txt'), 'first\nsecond');
    // The job branch moved forward only: its first commit, then the merge of main its agent finished.
    const branch = `drover/${second.jobId}`;
    assert.equal(git(origin, 'log', '-1', '--format=%P', branch).split(' ').length, 2);
    assert.equal(git(origin, 'rev-list', '--merges', `${base}..main`), '');
    assert.deepEqual(subjects(origin, `${base}..main`), ['first', 'second']);
  });

  it('asks a person when the agent cannot resolve it; skip leaves main and the job branch as they were', async () => {
    const origin = bareOrigin();
    const base = git(origin, 'rev-parse', 'main');
    const landed = await submit({
      repo: origin,
      prompt: 'one',
      agent: { kind: 'command', command: 'echo one > hello.txt' },
      integrate: { into: 'main' },
    });
    await ctx.env.client.result(landed.jobId);
    const main = git(origin, 'rev-parse', 'main');
    const stuck = await submit({
      repo: origin,
      base,
      prompt: 'two',
      // Sent back, it changes nothing: the markers stay and the check for them fails.
      agent: { kind: 'command', command: 'grep -q "conflicts in" "$DROVER_PROMPT_FILE" || echo two > hello.txt' },
      maxRevisions: 1,
      integrate: { into: 'main' },
    });
    const question = await waitFor(
      'the question',
      async () => (await ctx.env.client.status(stuck.jobId)).status?.pendingQuestion ?? undefined,
      120_000,
    );
    assert.match(question, /Integrating into main failed/);
    const jobCommit = git(origin, 'rev-parse', `drover/${stuck.jobId}`);
    const answered = await drover(ctx.env.config, ['answer', stuck.jobId, 'skip']);
    assert.equal(answered.code, 0, answered.stderr);
    const result = await ctx.env.client.result(stuck.jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.integration?.status, 'skipped');
    assert.equal(git(origin, 'rev-parse', 'main'), main);
    assert.equal(git(origin, 'rev-parse', `drover/${stuck.jobId}`), jobCommit);
    assert.equal(git(origin, 'show', `drover/${stuck.jobId}:hello.txt`), 'two');
  });

  it('retries on the new main when a person pushes during the integration, and keeps their commit', async () => {
    const origin = bareOrigin();
    const marks = tempDir('drover-marks-');
    const base = git(origin, 'rev-parse', 'main');
    const job = await submit({
      repo: origin,
      prompt: 'race',
      commitMessage: 'job edits job.txt',
      agent: { kind: 'command', command: 'echo job > job.txt' },
      // On the merged commit, the first check waits for the person's push.
      validate: [
        { name: 'gate', command: `${onlyIn('.integrate')}touch ${marks}/validating; while [ ! -e ${marks}/go ]; do sleep 0.2; done` },
      ],
      integrate: { into: 'main' },
    });
    await waitFor('the integration to validate', () => existsSync(join(marks, 'validating')) || undefined, 120_000);
    const person = personPushes(origin, 'person.txt', 'mine\n');
    writeFileSync(join(marks, 'go'), '');
    const result = await ctx.env.client.result(job.jobId);
    assert.equal(result.integration?.status, 'integrated');
    assert.deepEqual(subjects(origin, `${base}..main`), ['person edits person.txt', 'job edits job.txt']);
    assert.equal(git(origin, 'log', '-1', '--format=%P', 'main'), person);
    const view = await ctx.env.client.queue(origin, 'main');
    assert.equal(view.entries[0]?.tries, 2, 'the lease failed once');
  });

  it('takes a cancelled job out of the queue: it never lands', async () => {
    const origin = bareOrigin();
    const marks = tempDir('drover-marks-');
    const base = git(origin, 'rev-parse', 'main');
    const gate = [
      { name: 'gate', command: `${onlyIn('.integrate')}touch ${marks}/holding; while [ ! -e ${marks}/go ]; do sleep 0.2; done` },
    ];
    const ahead = await submit({
      repo: origin,
      prompt: 'ahead',
      commitMessage: 'ahead',
      agent: { kind: 'command', command: 'echo a > a.txt' },
      validate: gate,
      integrate: { into: 'main' },
    });
    await waitFor('the first integration to hold', () => existsSync(join(marks, 'holding')) || undefined, 120_000);
    const behind = await submit({
      repo: origin,
      prompt: 'behind',
      agent: { kind: 'command', command: 'echo b > b.txt' },
      integrate: { into: 'main' },
    });
    await waitFor(
      'the second to queue',
      async () => ((await ctx.env.client.status(behind.jobId)).phase === 'integrating' ? true : undefined),
      120_000,
    );
    await ctx.env.client.cancel(behind.jobId);
    await waitFor('the withdrawal', async () => {
      const view = await ctx.env.client.queue(origin, 'main');
      return view.entries.find((e) => e.jobId === behind.jobId && e.status === 'skipped');
    });
    writeFileSync(join(marks, 'go'), '');
    assert.equal((await ctx.env.client.result(ahead.jobId)).integration?.status, 'integrated');
    assert.deepEqual(subjects(origin, `${base}..main`), ['ahead']);
  });

  it('lands the winner of a best-of-N job', async () => {
    const origin = bareOrigin();
    const base = git(origin, 'rev-parse', 'main');
    const job = await submit({
      repo: origin,
      prompt: 'best of two',
      commitMessage: 'the winner',
      agent: { kind: 'command', command: `echo "\${PWD##*.}" > attempt.txt` },
      attempts: 2,
      integrate: { into: 'main' },
    });
    const result = await ctx.env.client.result(job.jobId);
    assert.equal(result.candidates?.length, 2);
    assert.equal(result.integration?.status, 'integrated');
    assert.deepEqual(subjects(origin, `${base}..main`), ['the winner']);
    assert.equal(git(origin, 'show', 'main:attempt.txt'), String((result.winner ?? 0) + 1));
    assert.equal(git(origin, 'rev-parse', `drover/${job.jobId}`), result.commit);
  });

  it('lands a finished job after the fact with drover integrate', async () => {
    const origin = bareOrigin();
    const job = await submit({ repo: origin, prompt: 'later', agent: { kind: 'command', command: 'echo later > later.txt' } });
    const result = await ctx.env.client.result(job.jobId);
    const out = await drover(ctx.env.config, ['integrate', job.jobId, '--into', 'main', '--json']);
    assert.equal(out.code, 0, out.stderr);
    const moved = () => {
      try {
        return git(origin, 'show', 'main:later.txt') === 'later' || undefined;
      } catch {
        return undefined;
      }
    };
    await waitFor('main to move', moved, 60_000);
    assert.equal(git(origin, 'log', '-1', '--format=%s%n%b', 'main').includes('Drover-Integrated-Into: main'), true);
    assert.equal(git(origin, 'rev-parse', 'main^'), result.baseCommit);
    const unknown = await drover(ctx.env.config, ['integrate', 'no-such-job', '--into', 'main']);
    assert.equal(unknown.code, 3, 'not found');
    // A target the origin lacks fails in the queue, with the reason shown there.
    assert.equal((await drover(ctx.env.config, ['integrate', job.jobId, '--into', 'nope'])).code, 0);
    const failed = await waitFor('the entry to fail', async () => {
      const view = await ctx.env.client.queue(origin, 'nope');
      return view.entries.find((e) => e.status === 'failed');
    });
    assert.match(failed.reason ?? '', /the origin has no branch nope/);
    const shown = await drover(ctx.env.config, ['queue', origin, '--into', 'nope']);
    assert.match(shown.stdout, /failed .*the origin has no branch nope/);
  });
});

describe('the merge queue across crashes', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('survives kill -9 of the worker during the integration: a new worker lands the job exactly once', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const config = testConfig(server.address);
    const client = await DroverClient.connect(config);
    cleanups.push(() => client.close());
    const marks = tempDir('drover-marks-');
    const origin = bareOrigin();
    const base = git(origin, 'rev-parse', 'main');
    const doomed = await workerProcess(config, 'box-a', { DROVER_DOCKER: '0' });
    cleanups.push(async () => doomed.kill('SIGKILL'));
    const job = await client.submit({
      repo: origin,
      prompt: 'crash',
      commitMessage: 'survives',
      agent: { kind: 'command', command: 'echo survived > crash.txt' },
      // The first integration hangs on its check; the one after the crash passes it.
      validate: [
        { name: 'hang once', command: `${onlyIn('.integrate')}if [ ! -e ${marks}/hung ]; then touch ${marks}/hung; sleep 600; fi` },
      ],
      timeouts: { heartbeat: '2s', workerPickup: '5s' },
      integrate: { into: 'main' },
    });
    await waitFor('the integration to start its check', () => existsSync(join(marks, 'hung')) || undefined, 120_000);
    doomed.kill('SIGKILL');
    await new Promise((r) => doomed.once('exit', r));
    const other = await workerProcess({ ...config, dataDir: tempDir('drover-data-b-') }, 'box-b', { DROVER_DOCKER: '0' });
    cleanups.push(async () => other.kill('SIGTERM'));
    const result = await client.result(job.jobId);
    assert.equal(result.integration?.status, 'integrated');
    assert.deepEqual(subjects(origin, `${base}..main`), ['survives']);
  });

  it('loses nothing and lands nothing twice across a dev server restart with jobs queued', async () => {
    let server = await startTestServer();
    const port = Number(server.address.split(':')[1]);
    cleanups.push(() => server.stop());
    const env = await startTestEnv(server.address);
    cleanups.push(() => env.stop());
    const marks = tempDir('drover-marks-');
    const origin = bareOrigin();
    const base = git(origin, 'rev-parse', 'main');
    const jobs = [];
    for (const name of ['x', 'y', 'z']) {
      jobs.push(
        await env.client.submit({
          repo: origin,
          prompt: name,
          commitMessage: `add ${name}`,
          agent: { kind: 'command', command: `echo ${name} > ${name}.txt` },
          validate: [{ name: 'slow', command: `${onlyIn('.integrate')}touch ${marks}/busy; sleep 2` }],
          integrate: { into: 'main' },
        }),
      );
    }
    await waitFor('an integration to be busy', () => existsSync(join(marks, 'busy')) || undefined, 120_000);
    await server.stop();
    server = await startTestServer({ port, dbFile: server.dbFile });
    const client = await DroverClient.connect(env.config);
    cleanups.push(() => client.close());
    const results = await Promise.all(jobs.map((j) => client.result(j.jobId)));
    assert.deepEqual(
      results.map((r) => r.integration?.status),
      ['integrated', 'integrated', 'integrated'],
    );
    const landed = subjects(origin, `${base}..main`);
    assert.deepEqual([...landed].sort(), ['add x', 'add y', 'add z']);
  });
});
