import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { dataPaths } from '../../src/config/paths.js';
import type { FetchRun } from '../../src/activities/shared-fetch.js';
import { git, makeRepo, serverAndWorker } from '../support/harness.js';

interface LogLine {
  ts: string;
  source: string;
  text: string;
  fetch?: FetchRun;
}

describe('eight jobs at once on one repository', () => {
  const ctx = serverAndWorker();

  it('all commit, each after a fetch that began once it asked, and no two fetches ever ran at once', async () => {
    const repo = makeRepo();
    const jobs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ctx.env.client.submit({ repo, prompt: `job ${i}`, agent: { kind: 'command', command: `echo "job ${i}" > job-${i}.txt` } }),
      ),
    );
    const results = await Promise.all(jobs.map((j) => ctx.env.client.result(j.jobId)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 'succeeded', `job ${i}: ${r.failure?.message ?? r.status}`);
      assert.equal(git(repo, 'show', `drover/${jobs[i]!.jobId}:job-${i}.txt`), `job ${i}`);
    }

    const paths = dataPaths(ctx.env.config.dataDir);
    const fetches = new Map<number, FetchRun>();
    for (const { jobId } of jobs) {
      const lines = readFileSync(paths.jobLog(jobId), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as LogLine);
      const asked = Date.parse(lines.find((l) => l.text.startsWith('preparing worktree'))!.ts);
      const fetched = lines.filter((l) => l.fetch).map((l) => l.fetch!);
      assert.equal(fetched.length, 1, `${jobId} logs one fetch`);
      const run = fetched[0]!;
      // Log stamps are ms, like the fetch's: the fetch a job got must not have begun before the job asked.
      assert.ok(run.startedAt >= asked, `${jobId}: its fetch began ${asked - run.startedAt} ms before it asked`);
      const seen = fetches.get(run.id);
      if (seen) assert.deepEqual(seen, run, 'jobs that share a fetch report the same one');
      fetches.set(run.id, run);
    }
    const spans = [...fetches.values()].sort((a, b) => a.startedAt - b.startedAt);
    for (let k = 1; k < spans.length; k++) {
      assert.ok(spans[k]!.startedAt >= spans[k - 1]!.endedAt, `fetch ${spans[k]!.id} began while fetch ${spans[k - 1]!.id} ran`);
    }
    assert.equal(
      [...fetches.values()].reduce((n, f) => n + f.sharedBy, 0),
      8,
      'every job is counted in the fetch it shared',
    );
    process.stdout.write(
      `8 jobs, ${spans.length} fetch(es): ${spans.map((f) => `${f.sharedBy} job(s) ${f.endedAt - f.startedAt} ms`).join(', ')}\n`,
    );
  });
});
