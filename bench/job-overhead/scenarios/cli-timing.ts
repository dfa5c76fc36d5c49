/** `drover --help` and `drover status <running job>` as a person runs them (bin/drover.js, from dist/). */
import { execFile } from 'node:child_process';
import type { DroverClient } from '../../../src/client.js';
import { type BenchRun, type BenchScenario, smallRepo } from '../context.js';
import { median } from '../measure.js';
import { PROMPT } from '../options.js';
import { DROVER_BIN, log, now, round1 } from '../shared.js';

/** Wall time of `drover <args>`, p50 of n runs after one warmup. */
async function timeCli(env: NodeJS.ProcessEnv, args: string[], n: number): Promise<{ p50: number; samplesMs: number[] }> {
  const once = () =>
    new Promise<number>((resolvePromise, reject) => {
      const t = now();
      execFile(DROVER_BIN, args, { env }, (err, _out, stderr) => {
        if (err) reject(new Error(`drover ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolvePromise(now() - t);
      });
    });
  await once();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await once());
  return { p50: median(samples), samplesMs: samples.map(round1) };
}

async function waitForPhase(c: DroverClient, jobId: string, phase: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await c.status(jobId)).phase !== phase) {
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not reach ${phase} within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function run(bench: BenchRun): Promise<void> {
  const { opts, env, client, extras } = bench;
  if (opts.cliSamples === 0) return;
  const help = await timeCli(env, ['--help'], opts.cliSamples);
  extras.help = help;
  log(`drover --help: p50 ${help.p50} ms`);
  // A running job (its agent sleeps), so status asks the workflow through the worker as well as the server.
  const { jobId } = await client.submit({ repo: smallRepo(bench).path, prompt: PROMPT, agent: { kind: 'command', command: 'sleep 600' } });
  await waitForPhase(client, jobId, 'running_agent');
  const status = await timeCli(env, ['status', jobId], opts.cliSamples);
  extras.status = status;
  log(`drover status (running job): p50 ${status.p50} ms`);
  await client.handle(jobId).cancel();
  await client.result(jobId).catch(() => undefined);
}

export const cliTiming: BenchScenario = { name: 'drover --help and drover status', scope: 'run', run };
