import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cacheKey, createDepCache, parseSize, pathState } from '../../src/activities/dep-cache.js';
import { copyIncluded, matchFiles, readRepoDefaults } from '../../src/activities/repo-config.js';
import { createGit } from '../../src/git/git.js';
import { AppError } from '../../src/shared/errors.js';
import { jobPlan, mergeDefaults } from '../../src/shared/job-plan.js';
import { JobInput, JobSpec } from '../../src/shared/schemas.js';
import { git as sh, makeRepo, tempDir } from '../support/harness.js';

const git = createGit({ timeouts: { clone: 60_000, fetch: 60_000, push: 60_000, local: 60_000 }, protocols: [] });

describe('dependency caches', () => {
  it('save and restore copies without following links, drop set-user-ID bits, and never write through a linked parent', async () => {
    const cache = createDepCache({ dir: join(tempDir(), 'caches'), maxBytes: 1e9 });
    const wt = tempDir();
    mkdirSync(join(wt, 'node_modules/.bin'), { recursive: true });
    writeFileSync(join(wt, 'node_modules/pkg.js'), 'x');
    symlinkSync('../pkg.js', join(wt, 'node_modules/.bin/pkg'));
    writeFileSync(join(wt, 'node_modules/tool'), '#!/bin/sh\n');
    chmodSync(join(wt, 'node_modules/tool'), 0o4755);
    const outside = tempDir();
    writeFileSync(join(outside, 'secret'), 'host secret');
    symlinkSync(outside, join(wt, 'linked'));

    const out = await cache.save('k1', wt, ['node_modules', 'linked', 'linked/secret', 'missing']);
    assert.deepEqual(out.saved, ['node_modules']);
    const saved = join(cache.dir, 'k1', 'files', 'node_modules');
    assert.ok(lstatSync(join(saved, '.bin/pkg')).isSymbolicLink());
    assert.equal(lstatSync(join(saved, 'tool')).mode & 0o7777, 0o755);

    const next = tempDir();
    assert.deepEqual(await cache.restore('k1', next), ['node_modules']);
    assert.equal(readFileSync(join(next, 'node_modules/.bin/pkg'), 'utf8'), 'x');
    // A path the checkout already has is left alone.
    assert.deepEqual(await cache.restore('k1', next), []);

    // A worktree whose parent of a cached path is a link into the host gets nothing written through it.
    const cache2 = createDepCache({ dir: join(tempDir(), 'caches'), maxBytes: 1e9 });
    const wt2 = tempDir();
    mkdirSync(join(wt2, 'a/deps'), { recursive: true });
    writeFileSync(join(wt2, 'a/deps/x'), 'x');
    await cache2.save('k2', wt2, ['a/deps']);
    const hostile = tempDir();
    const target = tempDir();
    symlinkSync(target, join(hostile, 'a'));
    assert.deepEqual(await cache2.restore('k2', hostile), []);
    assert.equal(existsSync(join(target, 'deps')), false);
    assert.equal(pathState(hostile, 'a/deps'), 'unsafe');
  });

  it('evicts the least recently used caches beyond the size limit', async () => {
    const dir = join(tempDir(), 'caches');
    const wt = tempDir();
    writeFileSync(join(wt, 'big'), Buffer.alloc(300_000));
    const cache = createDepCache({ dir, maxBytes: 700_000 });
    await cache.save('old', wt, ['big']);
    await new Promise((r) => setTimeout(r, 20));
    await cache.save('mid', wt, ['big']);
    await new Promise((r) => setTimeout(r, 20));
    await cache.restore('old', tempDir()); // now the most recently used
    const out = await cache.save('new', wt, ['big']);
    assert.deepEqual(out.evicted, ['mid']);
    assert.deepEqual(
      cache
        .list()
        .map((e) => e.key)
        .sort(),
      ['new', 'old'],
    );
    assert.equal(parseSize('10g'), 10 * 1024 ** 3);
    // One larger than the whole limit is not even copied.
    writeFileSync(join(wt, 'huge'), Buffer.alloc(800_000));
    const huge = await cache.save('huge', wt, ['huge']);
    assert.ok(huge.tooLarge && huge.tooLarge > 700_000);
    assert.equal(cache.has('huge'), false);
  });

  it('keys change with the key files, the paths, the place, the repository and the setup commands', () => {
    const spec = { key: ['package-lock.json'], paths: ['node_modules'] };
    const files = (oid: string) => new Map([['package-lock.json', { mode: '100644', type: 'blob', oid, size: 1 }]]);
    const made = { repo: '/src/app', place: 'host', setup: ['npm install'] };
    const a = cacheKey(spec, made, files('aa'));
    assert.equal(a, cacheKey(spec, made, files('aa')));
    assert.notEqual(a, cacheKey(spec, made, files('bb')));
    assert.notEqual(a, cacheKey(spec, { ...made, place: 'docker:img' }, files('aa')));
    assert.notEqual(a, cacheKey(spec, { ...made, repo: '/src/other' }, files('aa')), 'another repository with the same lockfile');
    assert.notEqual(a, cacheKey(spec, { ...made, setup: ['npm ci --ignore-scripts'] }, files('aa')));
    assert.notEqual(a, cacheKey({ ...spec, paths: ['.venv'] }, made, files('aa')));
  });
});

describe('.drover.yml and included files', () => {
  const mirrorOf = async (files: Record<string, string>, link?: [string, string]) => {
    const origin = makeRepo(files);
    if (link) {
      symlinkSync(link[1], join(origin, link[0]));
      sh(origin, 'add', '-A');
      sh(origin, 'commit', '-q', '-m', 'link');
    }
    const mirror = join(tempDir(), 'm.git');
    await git.syncMirror(origin, mirror, false, true, {});
    return { mirror, sha: await git.resolveBase(mirror, 'HEAD', {}) };
  };

  it('reads steps from the commit, bare commands named by themselves', async () => {
    const { mirror, sha } = await mirrorOf({
      '.drover.yml':
        'setup: [npm ci]\nvalidate:\n  - {name: test, command: npm test, timeout: 2m}\ncache:\n  - {key: [package-lock.json], paths: [node_modules/]}\n',
    });
    const d = await readRepoDefaults(git, mirror, sha, {});
    assert.deepEqual(d?.setup, [{ name: 'npm ci', command: 'npm ci', timeout: '10m' }]);
    assert.deepEqual(d?.validate, [{ name: 'test', command: 'npm test', timeout: '2m' }]);
    assert.deepEqual(d?.cache, [{ key: ['package-lock.json'], paths: ['node_modules'] }]);
  });

  it('refuses a .drover.yml that is a link, unknown fields, and paths outside the worktree', async () => {
    const reasons: [Record<string, string>, [string, string] | undefined, RegExp][] = [
      [{ 'a.txt': 'a' }, ['.drover.yml', '/etc/passwd'], /not a regular file/],
      [{ '.drover.yml': 'runtime: host\n' }, undefined, /runtime/],
      [{ '.drover.yml': 'cache: [{key: [a], paths: [../../root]}]\n' }, undefined, /\.\./],
      [{ '.drover.yml': 'cache: [{key: [a], paths: [/etc]}]\n' }, undefined, /relative/],
      [{ '.drover.yml': 'setup: [\n' }, undefined, /not valid YAML/],
    ];
    for (const [files, link, why] of reasons) {
      const { mirror, sha } = await mirrorOf(files, link);
      const err = await readRepoDefaults(git, mirror, sha, {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof AppError && err.type === 'RepoConfigInvalid', String(err));
      assert.match(err.message, why);
    }
    const { mirror, sha } = await mirrorOf({ 'a.txt': 'a' });
    assert.equal(await readRepoDefaults(git, mirror, sha, {}), undefined);
  });

  it('matches include globs without following links, and copies only what the checkout lacks', () => {
    const origin = tempDir();
    mkdirSync(join(origin, 'config/deep'), { recursive: true });
    writeFileSync(join(origin, '.env.local'), 'A=1');
    writeFileSync(join(origin, 'config/db.local.json'), '{}');
    writeFileSync(join(origin, 'config/deep/x.local.json'), '{}');
    writeFileSync(join(origin, 'tracked.txt'), 'mine');
    symlinkSync('/etc/passwd', join(origin, 'config/evil.local.json'));
    assert.deepEqual(matchFiles(origin, ['.env.local', 'config/*.local.json']), ['.env.local', 'config/db.local.json']);
    assert.deepEqual(matchFiles(origin, ['config/**/*.local.json']), ['config/db.local.json', 'config/deep/x.local.json']);
    const wt = tempDir();
    writeFileSync(join(wt, 'tracked.txt'), 'checkout');
    const out = copyIncluded(origin, wt, ['.env.local', 'tracked.txt', 'config/*.json']);
    assert.deepEqual(out.copied, ['.env.local', 'config/db.local.json']);
    assert.deepEqual(out.skipped, ['tracked.txt (the checkout has it)']);
    assert.equal(readFileSync(join(wt, 'tracked.txt'), 'utf8'), 'checkout');
  });

  it('the job overrides the repository, which overrides the worker, field by field', () => {
    const job = JobInput.parse({
      ...JobSpec.parse({ repo: '/r', prompt: 'p', agent: { kind: 'command', command: 'true' }, setup: ['make deps'] }),
      id: 'j1',
    });
    const step = (c: string) => ({ name: c, command: c, timeout: '10m' });
    const defaults = mergeDefaults(
      { setup: [step('repo setup')], validate: [step('repo test')] },
      { validate: [step('worker test')], teardown: [step('worker teardown')] },
    );
    const plan = jobPlan(job, defaults);
    assert.deepEqual(
      plan.setup.map((s) => s.command),
      ['make deps'],
    );
    assert.deepEqual(
      plan.validate.map((s) => s.command),
      ['repo test'],
    );
    assert.deepEqual(
      plan.teardown.map((s) => s.command),
      ['worker teardown'],
    );
    assert.deepEqual(plan.cache, []);
  });
});
