import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { startDevServer, freePort } from '../../src/temporal/dev-server.js';
import { SEARCH_ATTRIBUTE_NAMES, DroverAgent, DroverRepo, DroverStatus } from '../../src/shared/search-attributes.js';
import { agentScript, drover, makeRepo, run, serverAndWorker, tempDir, waitFor } from '../support/harness.js';

describe('what the Temporal UI and the CLI show of a job', () => {
  const ctx = serverAndWorker({ ui: { url: 'https://temporal-ui.example.com/' } });

  it('has a static summary, current details with the question, activity summaries and search attributes', async () => {
    const agent = agentScript(`
if [ -z "\${DROVER_ANSWER_FILE:-}" ]; then echo "thinking about it"; printf '{"question": "Tabs or spaces?"}' > .drover/question.json; exit 0; fi
echo ok > style.txt`);
    const { jobId, uiUrl } = await ctx.env.client.submit({
      repo: makeRepo(),
      prompt: 'Pick a style\\nmore text',
      agent: { kind: 'command', argv: ['bash', agent] },
    });
    assert.equal(uiUrl, `https://temporal-ui.example.com/namespaces/default/workflows/${jobId}`);
    await waitFor('the question', async () => (await ctx.env.client.status(jobId)).status?.pendingQuestion ?? undefined);

    const handle = ctx.env.client.handle(jobId);
    const desc = await handle.describe();
    assert.match((await desc.staticSummary()) ?? '', /^drover: Pick a style/);
    assert.match((await desc.staticDetails()) ?? '', /\*\*Agent:\*\* command/);
    const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(meta.currentDetails ?? '', /waiting_for_human/);
    assert.match(meta.currentDetails ?? '', /Tabs or spaces\?/);

    await waitFor('search attributes', async () => {
      const d = await handle.describe();
      return d.typedSearchAttributes.get(DroverStatus) === 'waiting_for_human' || undefined;
    });
    const d = await handle.describe();
    assert.match(d.typedSearchAttributes.get(DroverRepo) ?? '', /drover-repo-/);
    assert.equal(d.typedSearchAttributes.get(DroverAgent), 'command');

    const status = await ctx.env.client.status(jobId);
    assert.equal(status.status?.lastAgentEvent, 'message: thinking about it');

    await ctx.env.client.answer(jobId, 'spaces');
    await ctx.env.client.result(jobId);
    const history = await handle.fetchHistory();
    const converter = ctx.env.client.client.options.loadedDataConverter.payloadConverter;
    const summaries = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes && e.userMetadata?.summary)
      .map((e) => converter.fromPayload<string>(e.userMetadata!.summary!));
    assert.ok(
      summaries.some((s) => /^run command agent, revision 0/.test(s)),
      summaries.join(' | '),
    );
    assert.ok(
      summaries.some((s) => /^commit to drover\//.test(s)),
      summaries.join(' | '),
    );
    await waitFor(
      'final status attribute',
      async () => (await handle.describe()).typedSearchAttributes.get(DroverStatus) === 'succeeded' || undefined,
    );

    const logs = await drover(ctx.env.config, ['logs', jobId]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /agent\s+thinking about it/);
    assert.match(logs.stdout, /\? Tabs or spaces\?/);
    const raw = await drover(ctx.env.config, ['logs', jobId, '--json']);
    assert.ok(
      raw.stdout
        .trim()
        .split('\n')
        .every((l) => typeof JSON.parse(l).text === 'string'),
    );
  });

  it('sets namespace retention to at least 7 days', async () => {
    const c = await Connection.connect({ address: ctx.server.address });
    const ns = await c.workflowService.describeNamespace({ namespace: 'default' });
    await c.close();
    assert.ok(Number(ns.config?.workflowExecutionRetentionTtl?.seconds) >= 7 * 24 * 3600);
  });

  it("registers Drover's search attributes on an existing db file made without them", async () => {
    const bin = await ensureTemporalCli();
    const dbFile = join(tempDir('drover-olddb-'), 'dev.db');
    const port = await freePort();
    // A db created by plain `temporal server start-dev`, as an earlier install might have left it.
    const plain = spawn(bin, ['server', 'start-dev', '--headless', '--port', String(port), '--db-filename', dbFile], { stdio: 'ignore' });
    const exited = new Promise((r) => plain.once('exit', r));
    await waitFor('the plain server', async () => {
      const r = await run(bin, ['operator', 'search-attribute', 'list', '--address', `127.0.0.1:${port}`]);
      return r.code === 0 || undefined;
    });
    const before = await run(bin, ['operator', 'search-attribute', 'list', '--address', `127.0.0.1:${port}`]);
    assert.doesNotMatch(before.stdout, /DroverStatus/);
    plain.kill('SIGINT');
    await exited;

    const dev = await startDevServer({ bin, dbFile, port });
    try {
      const after = await run(bin, ['operator', 'search-attribute', 'list', '--address', dev.address]);
      for (const name of SEARCH_ATTRIBUTE_NAMES) assert.match(after.stdout, new RegExp(name));
    } finally {
      await dev.stop();
    }
  });
});
