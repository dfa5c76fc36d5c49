/**
 * Thirty jobs over three workers on the PostgreSQL-backed cluster while things break: a worker is killed with
 * SIGKILL every 10 s and started again, the history service is restarted once, PostgreSQL once. Every job must
 * end with exactly one commit on its branch, and no agent process may outlive its job.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { JobResult } from '../../src/shared/schemas.js';
import { type Fleet, startFleet } from '../support/fleet.js';
import { agentScript, git, isAlive, tempDir } from '../support/harness.js';

const JOBS = 30;
const KILL_EVERY_MS = 10_000;

/** Records its own pid and its child's, works 6 s (so that kills find agents at work), then edits. */
const AGENT = `
name=$(grep -o 'Chaos job [0-9]*' "$DROVER_PROMPT_FILE" | tr ' ' '-')
sleep 6 &
child=$!
echo "$$ $child" > "$MARKS/$name.$$.pids"
wait $child
echo "$name" > out.txt`;

interface Chaos {
  kills: number;
  events: string[];
  restartsMidRun: boolean;
}

describe('chaos on the cluster', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(3);
    const setup = await fleet.drover(['setup']);
    assert.equal(setup.code, 0, setup.stderr);
  });
  after(async () => fleet?.stop());

  it('finishes 30 of 30 jobs with one commit each through worker kills, a history restart and a PostgreSQL restart', async () => {
    const marks = tempDir('drover-chaos-marks-');
    const repo = fleet.newRepo();
    const agent = agentScript(AGENT);
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const { jobId } = await fleet.client.submit({
        repo: repo.url,
        prompt: `Chaos job ${i}`,
        agent: { kind: 'command', argv: ['bash', agent], env: { MARKS: marks } },
        timeouts: { heartbeat: '5s', workerPickup: '30s' },
        maxWorkerRestarts: 5,
      });
      ids.push(jobId);
    }
    const results = new Map<string, JobResult>();
    const all = Promise.all(ids.map(async (id) => results.set(id, await fleet.client.result(id))));
    const chaos = await breakThingsUntil(fleet, all, started);
    const wallMs = Date.now() - started;

    assert.equal(results.size, JOBS);
    const outcomes = [...results.values()].map((r) => r.status);
    assert.deepEqual(
      outcomes.filter((s) => s !== 'succeeded'),
      [],
      `every job succeeded (${chaos.events.join('; ')})`,
    );
    for (const [i, id] of ids.entries()) {
      assert.equal(git(repo.bare, 'rev-list', '--count', `main..drover/${id}`), '1', `one commit on drover/${id}`);
      assert.equal(git(repo.bare, 'show', `drover/${id}:out.txt`), `Chaos-job-${i}`);
    }
    assert.ok(chaos.restartsMidRun, `both restarts happened while jobs ran (${chaos.events.join('; ')})`);
    const orphans = await survivors(marks);
    assert.deepEqual(orphans, [], 'no agent process outlived its job');

    const attempts = [...results.values()].map((r) => r.attempts);
    const durations = [...results.values()].map((r) => Object.values(r.durationsMs).reduce((a, b) => a + b, 0)).sort((a, b) => a - b);
    const runs = readdirSync(marks).length;
    console.log(
      [
        `chaos: ${JOBS}/${JOBS} jobs succeeded in ${(wallMs / 1000).toFixed(1)} s with ${chaos.kills} worker kill(s), 1 history and 1 PostgreSQL restart`,
        `  agent runs: ${runs} for ${JOBS} jobs; jobs started over on another worker: ${attempts.filter((a) => a > 1).length}`,
        `  job time p50 ${pct(durations, 0.5)} ms, p95 ${pct(durations, 0.95)} ms, max ${durations.at(-1)} ms`,
        `  ${chaos.events.join('\n  ')}`,
      ].join('\n'),
    );
  });
});

/**
 * Kills a worker every 10 s (round robin, counted from the first submit) and starts it again, until the jobs are done; restarts the history
 * service 4 s in and PostgreSQL 12 s in, while the first jobs' agents run.
 */
async function breakThingsUntil(fleet: Fleet, done: Promise<unknown>, started: number): Promise<Chaos> {
  const chaos: Chaos = { kills: 0, events: [], restartsMidRun: false };
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const restarts = (async () => {
    await delay(Math.max(0, started + 4_000 - Date.now()));
    await fleet.cluster.restartService('history');
    chaos.events.push(`${at()}: history service restarted`);
    await delay(Math.max(0, started + 12_000 - Date.now()));
    await fleet.cluster.restartPostgres();
    chaos.events.push(`${at()}: PostgreSQL restarted`);
    chaos.restartsMidRun = !finished;
  })();
  for (let tick = 0; !finished; tick++) {
    await Promise.race([delay(Math.max(0, started + KILL_EVERY_MS * (tick + 1) - Date.now())), done]);
    if (finished) break;
    const w = fleet.workers[tick % fleet.workers.length]!;
    w.kill('SIGKILL');
    await w.exited();
    chaos.kills += 1;
    chaos.events.push(`${at()}: kill -9 ${w.id}`);
    await w.start();
    if (Date.now() - started > 8 * 60_000) throw new Error(`the jobs did not finish in 8 min: ${chaos.events.join('; ')}`);
  }
  await done;
  await restarts;
  return chaos;
}

/** Agent pids (and their children's) still alive, once every job has ended. */
async function survivors(marks: string): Promise<string[]> {
  await delay(2_000);
  return readdirSync(marks).flatMap((f) =>
    readFileSync(join(marks, f), 'utf8')
      .trim()
      .split(' ')
      .map(Number)
      .filter(isAlive)
      .map((pid) => `${f}: ${pid}`),
  );
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
