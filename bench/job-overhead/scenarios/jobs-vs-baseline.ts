/** Whole jobs: Drover against the same git commands run directly, for each job mode, at concurrency 1 and C. */
import { baselineJob } from '../baseline.js';
import { type BenchRun, type BenchScenario, droverJob } from '../context.js';
import { type Arm, armMeta, fanOut, interleaved } from '../measure.js';
import { type RepoFixture, resetOrigin } from '../repos.js';

async function run(bench: BenchRun, { repo, mirror, worktrees }: RepoFixture): Promise<void> {
  const { opts } = bench;
  const large = repo.kind === 'large';
  for (const mode of large ? opts.largeModes : opts.modes) {
    await resetOrigin(repo.path);
    // The same two arms at both levels, so each is warmed up once.
    const arms: Arm[] = [
      { meta: armMeta(repo.kind, `git baseline job (${mode})`, 'git', mode), run: () => baselineJob(repo.path, mirror, worktrees, mode) },
      { meta: armMeta(repo.kind, `drover job (${mode})`, 'drover', mode), run: () => droverJob(bench, repo, mode) },
    ];
    await interleaved(bench.results, arms, large ? opts.largeSamples : opts.samples);
    const high = large ? opts.largeSamplesHigh : opts.samplesHigh;
    if (high > 0) await fanOut(bench.results, arms, opts.concurrency, high);
  }
  await resetOrigin(repo.path);
}

export const jobsVsBaseline: BenchScenario = { name: 'drover job vs git baseline (c=1, c=C)', scope: 'repo', run };
