import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DroverClient } from '../../src/client.js';
import { dataPaths } from '../../src/config/paths.js';
import { failureTypeOf } from '../../src/shared/errors.js';
import { drover, git, makeRepo, serverAndWorker, tempDir } from '../support/harness.js';

/** How long the runSetup activity took (restore, steps and save), from the job's history. */
async function setupActivityMs(client: DroverClient, jobId: string): Promise<number> {
  const events = (await client.handle(jobId).fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runSetup');
  assert.ok(scheduled, 'runSetup was scheduled');
  const id = Number(scheduled.eventId);
  const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === id);
  const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id);
  const ms = (e: typeof started) => Number(e?.eventTime?.seconds ?? 0) * 1000 + Math.round((e?.eventTime?.nanos ?? 0) / 1e6);
  assert.ok(started && completed, 'runSetup completed');
  return ms(completed) - ms(started);
}

const jobLog = (dataDir: string, jobId: string) =>
  readFileSync(dataPaths(dataDir).jobLog(jobId), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { source: string; text: string; check?: string });

describe('setup steps and dependency caches on real projects', () => {
  // A fresh npm cache: the first job really downloads, as on a new machine.
  const ctx = serverAndWorker({}, { npm_config_cache: tempDir('drover-npm-cache-'), PIP_NO_CACHE_DIR: '1' });

  it('a Node package whose tests need mocha: setup installs it, the second job restores node_modules from the cache', async () => {
    const repo = makeRepo({
      'package.json': JSON.stringify(
        { name: 'adder', version: '1.0.0', scripts: { test: 'mocha --reporter dot' }, devDependencies: { mocha: '^10.0.0' } },
        null,
        2,
      ),
      '.gitignore': 'node_modules/\n',
      'index.js': 'module.exports = (a, b) => a - b;\n',
      'test/add.test.js': "const assert = require('assert');\nconst add = require('..');\nit('adds', () => assert.equal(add(2, 3), 5));\n",
    });
    const job = {
      repo,
      prompt: 'Fix add',
      agent: { kind: 'command' as const, command: "sed -i 's/a - b/a + b/' index.js" },
      setup: [{ name: 'npm install', command: 'npm install --no-audit --no-fund' }],
      validate: [{ name: 'npm test', command: 'npm test' }],
      cache: [{ key: ['package.json'], paths: ['node_modules'] }],
    };
    const first = await ctx.env.client.submit(job);
    const r1 = await ctx.env.client.result(first.jobId);
    assert.equal(r1.status, 'succeeded', JSON.stringify(r1.failure ?? r1.validations));
    assert.equal(r1.setup?.[0]?.passed, true);
    assert.equal(r1.validations[0]?.checks[0]?.passed, true);
    // node_modules is ignored; package-lock.json, which npm install wrote, is setup's and stays out too.
    assert.deepEqual(
      r1.files.map((f) => f.path),
      ['index.js'],
    );
    assert.match(
      jobLog(ctx.env.config.dataDir, first.jobId)
        .map((e) => e.text)
        .join('\n'),
      /cache \w+ saved: node_modules/,
    );

    const second = await ctx.env.client.submit(job);
    const r2 = await ctx.env.client.result(second.jobId);
    assert.equal(r2.status, 'succeeded');
    const log2 = jobLog(ctx.env.config.dataDir, second.jobId)
      .map((e) => e.text)
      .join('\n');
    assert.match(log2, /cache \w+ restored: node_modules/);
    assert.match(log2, /up to date/, 'npm found node_modules already in place');

    const [ms1, ms2] = [await setupActivityMs(ctx.env.client, first.jobId), await setupActivityMs(ctx.env.client, second.jobId)];
    console.log(
      `# npm: setup ${ms1} ms without a cache, ${ms2} ms with it (${(ms2 / ms1).toFixed(2)}x; bench/setup-cache.ts measures this)`,
    );

    const list = await drover(ctx.env.config, ['cache', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const entries = JSON.parse(list.stdout) as { key: string; paths: string[]; sizeBytes: number }[];
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0]?.paths, ['node_modules']);
    assert.ok(entries[0]!.sizeBytes > 1_000_000);
  });

  it('a Python package with pip install -e . and pytest in a venv in the worktree, cached', async () => {
    const repo = makeRepo({
      'requirements-dev.txt': 'pytest\nsetuptools>=61\nwheel\n',
      'pyproject.toml':
        '[project]\nname = "calc"\nversion = "0.1.0"\n[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[tool.setuptools]\npackages = ["calc"]\n',
      '.gitignore': '.venv/\n*.egg-info/\n__pycache__/\nbuild/\n',
      'calc/__init__.py': 'def mul(a, b):\n    return a + b\n',
      'tests/test_calc.py': 'from calc import mul\n\ndef test_mul():\n    assert mul(3, 4) == 12\n',
    });
    const job = {
      repo,
      prompt: 'Fix mul',
      agent: { kind: 'command' as const, command: "sed -i 's/a + b/a * b/' calc/__init__.py" },
      setup: [
        'test -x .venv/bin/python || python3 -m venv .venv',
        '.venv/bin/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt',
        '.venv/bin/python -m pip install --disable-pip-version-check -q --no-build-isolation --no-deps -e .',
      ],
      validate: [{ name: 'pytest', command: '.venv/bin/python -m pytest -q' }],
      cache: [{ key: ['requirements-dev.txt'], paths: ['.venv'] }],
    };
    const first = await ctx.env.client.submit(job);
    const r1 = await ctx.env.client.result(first.jobId);
    assert.equal(r1.status, 'succeeded', JSON.stringify(r1.failure ?? r1.validations));
    assert.deepEqual(
      r1.files.map((f) => f.path),
      ['calc/__init__.py'],
    );

    const second = await ctx.env.client.submit(job);
    const r2 = await ctx.env.client.result(second.jobId);
    assert.equal(r2.status, 'succeeded', JSON.stringify(r2.failure ?? r2.validations));
    assert.match(
      jobLog(ctx.env.config.dataDir, second.jobId)
        .map((e) => e.text)
        .join('\n'),
      /cache \w+ restored: \.venv/,
    );
    const [ms1, ms2] = [await setupActivityMs(ctx.env.client, first.jobId), await setupActivityMs(ctx.env.client, second.jobId)];
    console.log(`# pip: setup ${ms1} ms without a cache, ${ms2} ms with it (${(ms2 / ms1).toFixed(2)}x)`);
  });
});

describe('.drover.yml, failing setup, teardown and included files', () => {
  // Repositories the worker's owner vouches for may run their own steps on the host.
  const ctx = serverAndWorker({ repos: { trustConfig: [`${realpathSync(tmpdir())}/drover-repo-*`] } });

  it('.drover.yml supplies setup and validation when the job names none', async () => {
    const repo = makeRepo({
      '.drover.yml':
        'setup:\n  - echo prepared > .prepared\nvalidate:\n  - name: prepared\n    command: test -f .prepared && grep -q fixed app.txt\n',
      '.gitignore': '.prepared\n',
      'app.txt': 'broken\n',
    });
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'fix',
      agent: { kind: 'command', command: 'test -f .prepared && echo fixed > app.txt' },
    });
    const r = await ctx.env.client.result(jobId);
    assert.equal(r.status, 'succeeded', JSON.stringify(r.failure ?? r.validations));
    assert.equal(r.setup?.[0]?.name, 'echo prepared > .prepared');
    assert.equal(r.validations[0]?.checks[0]?.name, 'prepared');
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['app.txt'],
    );
  });

  it('.drover.yml steps of a repository outside repos.trustConfig do not run on the host, and the log says why', async () => {
    const marks = tempDir('drover-marks-');
    const repo = makeRepo(
      { '.drover.yml': `setup: ["touch ${marks}/repo-setup-ran"]\nvalidate: ["false"]\n`, 'a.txt': 'a\n' },
      'drover-untrusted-',
    );
    const { jobId } = await ctx.env.client.submit({ repo, prompt: 'x', agent: { kind: 'command', command: 'echo b > a.txt' } });
    const r = await ctx.env.client.result(jobId);
    assert.equal(r.status, 'succeeded', JSON.stringify(r.failure));
    assert.equal(r.setup, undefined);
    assert.deepEqual(r.validations[0]?.checks, []);
    assert.equal(existsSync(join(marks, 'repo-setup-ran')), false);
    assert.match(
      jobLog(ctx.env.config.dataDir, jobId)
        .map((e) => e.text)
        .join('\n'),
      /setup, validate not used: on the host they would run with the worker's credentials/,
    );
  });

  it('a failing setup ends the job as SetupFailed with its output, the agent never runs, and teardown still runs', async () => {
    const marks = tempDir('drover-marks-');
    const repo = makeRepo({ 'a.txt': 'a\n' });
    const res = await drover(ctx.env.config, [
      'submit',
      '--repo',
      repo,
      '--prompt',
      'x',
      '--agent',
      'command',
      '--agent-command',
      `touch ${marks}/agent-ran`,
      '--setup',
      'echo installing; echo "E404 no such package" >&2; exit 3',
      '--teardown',
      `touch ${marks}/teardown-ran`,
      '--wait',
      '--json',
    ]);
    assert.equal(res.code, 1, res.stderr);
    const report = JSON.parse(res.stdout) as {
      result: { status: string; failure: { type: string; message: string }; setup: { passed: boolean }[] };
    };
    assert.equal(report.result.status, 'failed');
    assert.equal(report.result.failure.type, 'SetupFailed');
    assert.match(report.result.failure.message, /exit 3.*the agent did not run[\s\S]*E404 no such package/);
    assert.equal(existsSync(join(marks, 'agent-ran')), false);
    assert.equal(existsSync(join(marks, 'teardown-ran')), true);
  });

  it('an invalid .drover.yml fails the job at once with RepoConfigInvalid', async () => {
    const repo = makeRepo({ '.drover.yml': 'setup: 42\n' });
    const { jobId } = await ctx.env.client.submit({ repo, prompt: 'x', agent: { kind: 'command', command: 'true' } });
    const err = await ctx.env.client.result(jobId).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.equal(failureTypeOf(err), 'RepoConfigInvalid');
    assert.match(String((err?.cause as Error | undefined)?.message), /\.drover\.yml at [0-9a-f]{12} is not valid: .*setup/);
  });

  it('include copies ignored files from a local repository into the worktree, never into the commit', async () => {
    const repo = makeRepo({ '.gitignore': '.env.local\nconfig/*.local.json\n', 'config/app.json': '{}\n', 'README.md': 'x\n' });
    writeFileSync(join(repo, '.env.local'), 'API_URL=http://localhost:9\n');
    writeFileSync(join(repo, 'config', 'db.local.json'), '{"db": "local"}\n');
    writeFileSync(join(repo, 'config', 'other.json'), '{}\n');
    const { jobId } = await ctx.env.client.submit({
      repo,
      prompt: 'read the local settings',
      agent: { kind: 'command', command: 'cat .env.local config/db.local.json > seen.txt; test ! -e config/other.json' },
      include: ['.env.local', 'config/*.local.json'],
    });
    const r = await ctx.env.client.result(jobId);
    assert.equal(r.status, 'succeeded', JSON.stringify(r.failure));
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['seen.txt'],
    );
    assert.equal(git(repo, 'show', `drover/${jobId}:seen.txt`), 'API_URL=http://localhost:9\n{"db": "local"}');
    const log = jobLog(ctx.env.config.dataDir, jobId)
      .map((e) => e.text)
      .join('\n');
    assert.match(log, /included from .*: \.env\.local, config\/db\.local\.json/);
  });

  it('refuses include for a repository that is not local, at the edge', async () => {
    const res = await drover(ctx.env.config, [
      'submit',
      '--repo',
      'https://example.com/x.git',
      '--prompt',
      'x',
      '--agent',
      'command',
      '--agent-command',
      'true',
      '--include',
      '.env',
    ]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /include: works only with a local repository/);
    assert.equal(readdirSync(ctx.env.config.dataDir).includes('caches'), false);
  });
});
