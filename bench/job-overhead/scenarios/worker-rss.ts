/** The worker's peak resident memory while --rss-jobs jobs are in flight at once (their agents sleep 2 s). */
import { type BenchRun, type BenchScenario, smallRepo, submitAndWait } from '../context.js';
import { log, now, round1 } from '../shared.js';

async function run(bench: BenchRun): Promise<void> {
  const { opts, worker } = bench;
  const count = opts.rssJobs;
  if (count === 0) return;
  const repoPath = smallRepo(bench).path;
  const idleMb = worker.rssMb();
  let peakMb = idleMb;
  const timer = setInterval(() => (peakMb = Math.max(peakMb, worker.rssMb())), 100);
  const t = now();
  try {
    await Promise.all(Array.from({ length: count }, () => submitAndWait(bench, repoPath, 'sleep 2')));
  } finally {
    clearInterval(timer);
  }
  const workerRss = {
    jobs: count,
    idleMb: round1(idleMb),
    peakMb: round1(Math.max(peakMb, worker.rssMb())),
    wallMs: Math.round(now() - t),
  };
  bench.extras.workerRss = workerRss;
  log(`worker memory with ${count} jobs in flight: ${JSON.stringify(workerRss)}`);
}

export const workerRss: BenchScenario = { name: 'worker memory under load', scope: 'run', run };
