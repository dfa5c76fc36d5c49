/**
 * Drover on a real multi-service Temporal cluster backed by PostgreSQL, with three workers that share nothing
 * but the cluster and an origin reached over HTTP with the workers' own credentials.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import type { WorkerView } from '../../src/client/workers.js';
import { type Fleet, startFleet } from '../support/fleet.js';
import { agentScript, git, isAlive, run, tempDir, waitFor } from '../support/harness.js';
import { scrape, total } from '../support/prometheus.js';
import { statusQuery } from '../../src/workflows/definitions.js';

const ASKING_AGENT = `
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then
  printf '{"question": "Which greeting?"}' > .drover/question.json
  exit 0
fi
cat "$DROVER_ANSWER_FILE" > greeting.txt`;

/** Waits for a file named by $GATE before it edits: a job the test can hold while it looks at the fleet. */
const GATED_AGENT = `
echo "waiting for the gate"
while [ ! -e "$GATE" ]; do sleep 0.2; done
echo "gate open"
echo done > done.txt`;

describe('on a PostgreSQL-backed cluster with three workers', () => {
  let fleet: Fleet;
  before(async () => {
    // A short long-poll makes an idle worker poll every 5 s, so a killed one is seen as gone within 20 s.
    fleet = await startFleet(3, { dynamicConfig: { 'matching.longPollExpirationInterval': '5s' } });
    const setup = await fleet.drover(['setup', '--json']);
    assert.equal(setup.code, 0, setup.stderr);
  });
  after(async () => fleet?.stop());

  /** The worker a job's status names, for a running or a closed job (a query replays a closed one). */
  const workerOf = async (jobId: string) => (await fleet.client.handle(jobId).query(statusQuery)).worker;
  /** Workflow metrics come from whichever worker ran the workflow task: add up the fleet. */
  const scrapeAll = async () => (await Promise.all(fleet.workers.map((w) => scrape(w.metrics)))).flat();

  const gated = (gate: string, repo = fleet.newRepo()) =>
    fleet.client.submit({
      repo: repo.url,
      prompt: 'Wait for the gate, then write done.txt',
      agent: { kind: 'command', argv: ['bash', agentScript(GATED_AGENT)], env: { GATE: gate } },
      timeouts: { heartbeat: '5s', workerPickup: '20s' },
    });

  it('runs the core job: clone, fetch and push over HTTP with the worker credentials, one commit on the branch', async () => {
    const repo = fleet.newRepo();
    const { jobId } = await fleet.client.submit({
      repo: repo.url,
      prompt: 'Say hello to the world',
      agent: { kind: 'command', argv: ['bash', '-c', 'echo "hello world" > hello.txt'] },
      validate: [{ name: 'greets', command: 'grep -q world hello.txt' }],
    });
    const result = await fleet.client.result(jobId);
    assert.equal(result.status, 'succeeded');
    assert.equal(git(repo.bare, 'rev-list', '--count', `main..drover/${jobId}`), '1');
    assert.equal(git(repo.bare, 'show', `drover/${jobId}:hello.txt`), 'hello world');
    assert.ok(
      fleet.origin.log().some((r) => r.user === 'drover' && r.path.includes('git-receive-pack')),
      'the push went over HTTP',
    );
  });

  it('asks, waits, and resumes on `temporal workflow signal`', async () => {
    const repo = fleet.newRepo();
    const { jobId } = await fleet.client.submit({
      repo: repo.url,
      prompt: 'Write a greeting; ask which',
      agent: { kind: 'command', argv: ['bash', agentScript(ASKING_AGENT)] },
    });
    await waitFor('the question', async () => (await fleet.client.status(jobId)).status?.pendingQuestion ?? undefined);
    const signal = await run(await ensureTemporalCli(), [
      ...['workflow', 'signal', '--address', fleet.cluster.address, '--workflow-id', jobId],
      ...['--name', 'answer', '--input', JSON.stringify({ text: 'Ahoy' })],
    ]);
    assert.equal(signal.code, 0, signal.stderr);
    assert.equal((await fleet.client.result(jobId)).status, 'succeeded');
    assert.equal(git(repo.bare, 'show', `drover/${jobId}:greeting.txt`), 'Ahoy');
  });

  it('cancels: the agent dies on its worker and the job ends cancelled', async () => {
    const marks = tempDir('drover-marks-');
    const agent = agentScript(`echo $$ > "$MARKS/agent.pid"\nsleep 600`);
    const { jobId } = await fleet.client.submit({
      repo: fleet.newRepo().url,
      prompt: 'Hang',
      agent: { kind: 'command', argv: ['bash', agent], env: { MARKS: marks } },
      timeouts: { heartbeat: '5s' },
    });
    const pid = await waitFor('the agent', () =>
      existsSync(join(marks, 'agent.pid')) ? Number(readFileSync(join(marks, 'agent.pid'), 'utf8')) : undefined,
    );
    const r = await fleet.drover(['cancel', jobId, '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await fleet.client.status(jobId)).execution, 'CANCELLED');
    await waitFor('the agent to die', () => !isAlive(pid) || undefined, 10_000);
  });

  it('lists the workers with their backends and jobs, serves metrics, and shows logs on another machine', async () => {
    const gate = join(tempDir('drover-gate-'), 'open');
    const { jobId } = await gated(gate);
    const holder = await waitFor('a worker to hold the job', async () => (await fleet.client.status(jobId)).status?.worker ?? undefined);
    await waitFor(
      'the agent to start',
      async () => (await fleet.drover(['logs', jobId])).stdout.includes('waiting for the gate') || undefined,
    );

    const listed = await fleet.drover(['workers', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const views = JSON.parse(listed.stdout) as WorkerView[];
    assert.deepEqual(views.map((v) => v.workerId).sort(), fleet.workers.map((w) => w.id).sort());
    for (const v of views) {
      assert.deepEqual(v.backends, ['command']);
      assert.equal(v.runtime.kind, 'host');
      assert.equal(v.state, 'live');
      assert.deepEqual(v.jobs, v.workerId === holder ? [jobId] : []);
    }

    const during = await scrapeAll();
    assert.equal(total(during, 'drover_jobs_started_total', { agent: 'command' }) >= 1, true);
    assert.ok(
      during.some((s) => s.name.startsWith('temporal_')),
      'the SDK metrics are served too',
    );

    // "Another machine": the CLI's own data dir holds no log; it reads the log through the holding worker.
    const follow = fleet.drover(['logs', jobId, '-f']);
    await new Promise((r) => setTimeout(r, 1_500));
    writeFileSync(gate, '');
    const followed = await follow;
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /waiting for the gate[\s\S]*gate open/);
    assert.equal((await fleet.client.result(jobId)).status, 'succeeded');

    const afterJob = await scrapeAll();
    const finished = (s: typeof during) => total(s, 'drover_jobs_finished_total', { agent: 'command', status: 'succeeded' });
    assert.ok(finished(afterJob) > finished(during), 'drover_jobs_finished_total moved');
    const count = (s: typeof during) => total(s, 'drover_job_duration_seconds_count', { agent: 'command' });
    assert.ok(count(afterJob) > count(during), 'the job duration histogram moved');
  });

  it('drains on SIGTERM: finishes the job it holds, takes nothing new, exits 0; with a short timeout hands it back', async () => {
    const gate = join(tempDir('drover-gate-'), 'open');
    const { jobId } = await gated(gate);
    const holder = await waitFor('a worker to hold the job', async () => (await fleet.client.status(jobId)).status?.worker ?? undefined);
    const draining = fleet.workers.find((w) => w.id === holder)!;
    await waitFor(
      'the agent to run',
      async () => (await fleet.drover(['logs', jobId])).stdout.includes('waiting for the gate') || undefined,
    );
    draining.kill('SIGTERM');
    await waitFor('the drain to begin', () => draining.stderr.includes('draining') || undefined, 10_000);

    // A new job meanwhile lands on another worker.
    const other = await fleet.client.submit({
      repo: fleet.newRepo().url,
      prompt: 'Quick one',
      agent: { kind: 'command', argv: ['bash', '-c', 'echo quick > quick.txt'] },
    });
    assert.equal((await fleet.client.result(other.jobId)).status, 'succeeded');
    assert.notEqual(await workerOf(other.jobId), holder);

    writeFileSync(gate, '');
    assert.equal((await fleet.client.result(jobId)).status, 'succeeded');
    assert.equal(await draining.exited(), 0, draining.stderr.slice(-3000));
    assert.equal(await workerOf(jobId), holder, 'the draining worker finished its own job');
    assert.match(draining.stderr, /no job was left/);
    await draining.start();

    // With a 2 s drain timeout, the held job moves to another worker and completes there. An idle worker's
    // drain ends at once, so restarting all three with the short timeout takes a few seconds.
    await Promise.all(
      fleet.workers.map(async (w) => {
        w.kill('SIGTERM');
        assert.equal(await w.exited(), 0, `${w.id} after SIGTERM: ${w.stderr.slice(-3000)}`);
        await w.start(['--drain-timeout', '2s']);
      }),
    );
    const gate2 = join(tempDir('drover-gate-'), 'open');
    const moved = await gated(gate2);
    const first = await waitFor('a worker', async () => (await fleet.client.status(moved.jobId)).status?.worker ?? undefined);
    const leaving = fleet.workers.find((w) => w.id === first)!;
    await waitFor('the agent to run', async () => (await fleet.drover(['logs', moved.jobId])).stdout.includes('waiting') || undefined);
    leaving.kill('SIGTERM');
    assert.equal(await leaving.exited(), 0, leaving.stderr.slice(-3000));
    assert.match(leaving.stderr, new RegExp(`handed back ${moved.jobId}`));
    writeFileSync(gate2, '');
    const done = await fleet.client.result(moved.jobId);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 2);
    assert.notEqual(await workerOf(moved.jobId), first);
    await leaving.start();
  });

  it('marks a killed worker gone', async () => {
    const victim = fleet.workers[2]!;
    victim.kill('SIGKILL');
    await victim.exited();
    const killed = Date.now();
    const gone = await waitFor(
      'the killed worker to be marked gone',
      async () => {
        const r = await fleet.drover(['workers', '--json', '--gone-after', '15s']);
        const v = (JSON.parse(r.stdout) as WorkerView[]).find((w) => w.workerId === victim.id);
        return !v || v.state === 'gone' ? (v ?? 'dropped') : undefined;
      },
      60_000,
    );
    console.log(`killed worker ${victim.id} marked ${typeof gone === 'string' ? gone : gone.state} after ${Date.now() - killed} ms`);
    await victim.start();
  });
});
