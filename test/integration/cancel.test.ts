import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { agentScript, drover, isAlive, makeRepo, serverAndWorker, tempDir, waitFor } from '../support/harness.js';

describe('cancel during the agent run', () => {
  const ctx = serverAndWorker();

  it('kills the agent process group within 5 s, removes the worktree, and ends Canceled', async () => {
    const marks = tempDir('drover-marks-');
    // The agent and a child of it both record their pids, then hang.
    const agent = agentScript(`
sleep 600 &
echo $! > "$MARKS/child.pid"
echo $$ > "$MARKS/agent.pid"
echo "working..."
wait`);
    const { jobId } = await ctx.env.client.submit({
      repo: makeRepo(),
      prompt: 'Hang',
      agent: { kind: 'command', argv: ['bash', agent], env: { MARKS: marks } },
      timeouts: { heartbeat: '5s' },
    });
    const pids = await waitFor('the agent to start', () =>
      existsSync(join(marks, 'child.pid')) && existsSync(join(marks, 'agent.pid'))
        ? ['agent.pid', 'child.pid'].map((f) => Number(readFileSync(join(marks, f), 'utf8').trim()))
        : undefined,
    );
    assert.ok(pids.every(isAlive));

    const cancelled = Date.now();
    const r = await drover(ctx.env.config, ['cancel', jobId]);
    assert.equal(r.code, 0, r.stderr);
    const requested = Date.now();
    await waitFor('the agent process group to die', () => pids.every((p) => !isAlive(p)) || undefined, 5_000);
    const killMs = Date.now() - cancelled;
    const afterRequestMs = Date.now() - requested;

    await waitFor('the workflow to close', async () => (await ctx.env.client.status(jobId)).execution !== 'RUNNING' || undefined, 30_000);
    const report = await ctx.env.client.status(jobId);
    assert.equal(report.execution, 'CANCELLED');
    assert.equal(report.phase, 'cancelled');
    assert.equal(existsSync(join(ctx.env.config.dataDir, 'worktrees', jobId)), false);
    const result = await drover(ctx.env.config, ['result', jobId]);
    assert.equal(result.code, 4);
    console.log(`agent process group gone ${killMs} ms after running drover cancel (${afterRequestMs} ms after it returned)`);
  });
});
