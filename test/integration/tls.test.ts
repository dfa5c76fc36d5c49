/**
 * TLS end to end: the cluster's frontend serves a self-signed certificate; the worker and the CLI connect with
 * TEMPORAL_TLS_CA and TEMPORAL_TLS_SERVER_NAME, and without them fail with one line that says what to set.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type Cluster, startCluster } from '../support/temporal-cluster.js';
import { makeSelfSignedCert } from '../support/tls-cert.js';
import { drover, makeRepo, REPO_ROOT, run, tempDir, testConfig, workerProcess } from '../support/harness.js';
import type { DroverConfig } from '../../src/config/schema.js';

describe('a cluster frontend with TLS', () => {
  let cluster: Cluster;
  let config: DroverConfig;
  let tlsEnv: Record<string, string>;
  let worker: ChildProcess | undefined;
  before(async () => {
    const cert = makeSelfSignedCert(tempDir('drover-tls-'));
    cluster = await startCluster({ tls: cert });
    config = testConfig(cluster.address);
    tlsEnv = { TEMPORAL_TLS_CA: cert.caFile, TEMPORAL_TLS_SERVER_NAME: 'localhost' };
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await cluster?.stop();
  });

  it('runs a job with the worker and the CLI on TEMPORAL_TLS_CA and TEMPORAL_TLS_SERVER_NAME', async () => {
    const setup = await drover(config, ['setup'], tlsEnv);
    assert.equal(setup.code, 0, setup.stderr);
    worker = await workerProcess(config, 'tls-worker', tlsEnv);
    const args = ['submit', '--repo', makeRepo(), '--prompt', 'Hi', '--agent', 'command', '--agent-command', 'echo hi > hi.txt'];
    const submit = await drover(config, [...args, '--wait', '--json'], tlsEnv);
    assert.equal(submit.code, 0, submit.stderr);
    assert.equal(JSON.parse(submit.stdout).result.status, 'succeeded');
  });

  it('fails with one clear line when the CLI or the worker connect without TLS', async () => {
    const status = await drover(config, ['list']);
    assert.equal(status.code, 5, status.stderr);
    const lines = status.stderr.trim().split('\n');
    assert.equal(lines.length, 1, status.stderr);
    assert.match(lines[0]!, new RegExp(`^drover: cannot reach Temporal at ${cluster.address} .*set TEMPORAL_TLS=true or TEMPORAL_TLS_CA$`));

    const bare = await run(process.execPath, [`${REPO_ROOT}/bin/drover.js`, 'worker', '--worker-id', 'plain'], {
      env: { TEMPORAL_ADDRESS: cluster.address, DROVER_TASK_QUEUE: config.taskQueue, DROVER_DATA_DIR: tempDir('drover-data-') },
      timeoutMs: 60_000,
    });
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /cannot reach Temporal at .*TEMPORAL_TLS/);
    assert.equal(
      bare.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('drover:')).length,
      1,
      bare.stderr,
    );
  });
});
