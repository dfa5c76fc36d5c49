import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'drover-config-'));
const file = (text: string) => {
  const p = join(dir, `${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
};
const env = { HOME: dir };

describe('loadConfig', () => {
  it('has defaults', () => {
    const c = loadConfig({ env });
    assert.equal(c.temporal.address, '127.0.0.1:7233');
    assert.equal(c.temporal.namespace, 'default');
    assert.equal(c.taskQueue, 'drover');
    assert.equal(c.dataDir, join(dir, '.local/share/drover'));
  });
  it('never reads a config file from the current directory (a cloned repository could ship one)', () => {
    const repo = mkdtempSync(join(tmpdir(), 'drover-cwd-'));
    writeFileSync(join(repo, 'drover.yaml'), 'temporal: {address: evil.example.com:7233}\ntaskQueue: evil\n');
    const cwd = process.cwd();
    process.chdir(repo);
    try {
      const c = loadConfig({ env });
      assert.equal(c.temporal.address, '127.0.0.1:7233');
      assert.equal(c.taskQueue, 'drover');
    } finally {
      process.chdir(cwd);
    }
  });
  it('layers file < environment < flags', () => {
    const f = file('temporal:\n  address: file:1\n  namespace: file-ns\ntaskQueue: file-q\n');
    const c = loadConfig({
      file: f,
      env: { ...env, TEMPORAL_ADDRESS: 'env:2', DROVER_DATA_DIR: '/data' },
      overrides: { taskQueue: 'flag-q' },
    });
    assert.equal(c.temporal.address, 'env:2');
    assert.equal(c.temporal.namespace, 'file-ns');
    assert.equal(c.taskQueue, 'flag-q');
    assert.equal(c.dataDir, '/data');
  });
  it('honors DROVER_CONFIG, TEMPORAL_NAMESPACE and DROVER_TASK_QUEUE', () => {
    const f = file('worker:\n  maxConcurrentAgents: 3\n');
    const c = loadConfig({ env: { ...env, DROVER_CONFIG: f, TEMPORAL_NAMESPACE: 'ns', DROVER_TASK_QUEUE: 'q' } });
    assert.equal(c.worker.maxConcurrentAgents, 3);
    assert.equal(c.temporal.namespace, 'ns');
    assert.equal(c.taskQueue, 'q');
  });
  it('reads agent backends and docker settings from the file, and the worker switches from the environment', () => {
    const path = file(
      'agents: {claude-code: {model: m1, allowedTools: [Bash]}, codex: {bypassSandbox: true}}\ndocker: {poolSize: 3, network: host}\nworker: {runtime: host, backends: [codex]}\n',
    );
    const c = loadConfig({
      file: path,
      env: { ...env, DROVER_BACKENDS: 'claude-code, command', DROVER_RUNTIME: 'docker', DROVER_DOCKER: 'off' },
    });
    assert.equal(c.agents['claude-code'].model, 'm1');
    assert.equal(c.agents['claude-code'].permissionMode, 'acceptEdits');
    assert.equal(c.agents['claude-code'].onPermissionRequest, 'deny');
    assert.equal(c.agents.codex.bypassSandbox, true);
    assert.equal(c.agents.opencode.autoApprove, false);
    assert.deepEqual([c.docker.poolSize, c.docker.network, c.docker.memory], [3, 'host', '4g']);
    assert.deepEqual(c.worker.backends, ['claude-code', 'command']);
    assert.equal(c.worker.runtime, 'docker');
    assert.equal(c.worker.docker, false);
    assert.throws(() => loadConfig({ env: { ...env, DROVER_BACKENDS: 'gpt-agent' } }), /worker\.backends\.0/);
  });

  it('gives one-line errors for typos, bad types, bad YAML and a missing file', () => {
    const cases: [string, RegExp][] = [
      [file('taskQeue: x\n'), /Unrecognized key.*taskQeue/],
      [file('dev:\n  port: "high"\n'), /dev\.port: /],
      [file('temporal: [\n'), /not valid YAML/],
      [join(dir, 'missing.yaml'), /config file not found/],
    ];
    for (const [path, message] of cases) {
      assert.throws(
        () => loadConfig({ file: path, env }),
        (err: Error & { type?: string }) => {
          assert.equal(err.type, 'ConfigInvalid');
          assert.match(err.message, message);
          assert.equal(err.message.includes('\n'), false);
          return true;
        },
      );
    }
  });
});
