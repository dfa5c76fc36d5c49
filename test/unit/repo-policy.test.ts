import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkRepoAllowed, checkRuntimeEnv, type JobPolicy, repoConfigTrusted } from '../../src/config/policy.js';
import { globToRegExp } from '../../src/shared/glob.js';
import { isLocalRepo, repoLocationProblem, repoTransport } from '../../src/shared/repo-location.js';
import { tempDir } from '../support/harness.js';

describe('repository locations', () => {
  it('reads a location the way git does', () => {
    const cases: [string, string][] = [
      ['/home/me/app', 'file'],
      ['relative/app', 'file'],
      ['./a:b', 'file'],
      ['file:///srv/app.git', 'file'],
      ['https://github.com/acme/app.git', 'https'],
      ['http://example.com/app.git', 'http'],
      ['ssh://git@example.com/app.git', 'ssh'],
      ['git+ssh://example.com/app.git', 'ssh'],
      ['git@github.com:acme/app.git', 'ssh'],
      ['example.com:app.git', 'ssh'],
      ['git://example.com/app.git', 'git'],
      ['ext::sh -c x', 'ext'],
      ['ftp://example.com/app.git', 'ftp'],
    ];
    for (const [repo, transport] of cases) assert.equal(repoTransport(repo), transport, repo);
    assert.equal(isLocalRepo('/tmp/a::b'), true, 'a path with :: after a slash is a path, not a remote helper');
  });

  it('rejects credentials and remote helpers, and accepts plain URLs', () => {
    for (const bad of [
      'https://ghp_token123@github.com/acme/app.git',
      'https://user:pass@example.com/app.git',
      'ssh://git:pass@example.com/app.git',
      'https://example.com/app.git?private_token=abc',
      'https://example.com/app.git?private%5Ftoken=abc',
      'ext::sh -c touch% /tmp/x',
      'fd::3',
    ]) {
      assert.ok(repoLocationProblem(bad), bad);
    }
    for (const good of [
      'https://github.com/acme/app.git',
      'ssh://git@example.com/app.git',
      'git@github.com:acme/app.git',
      '/srv/app',
      'git://h/x',
    ]) {
      assert.equal(repoLocationProblem(good), undefined, good);
    }
  });

  it('matches globs: * within a segment, ** across segments', () => {
    assert.ok(globToRegExp('https://github.com/acme/*').test('https://github.com/acme/app.git'));
    assert.ok(!globToRegExp('https://github.com/acme/*').test('https://github.com/acme/x/app.git'));
    assert.ok(globToRegExp('/srv/**').test('/srv/team/app'));
    assert.ok(!globToRegExp('/srv/**').test('/srvx/app'));
    assert.ok(globToRegExp('ANTHROPIC_*').test('ANTHROPIC_API_KEY'));
    assert.ok(!globToRegExp('a.b').test('axb'), 'dots are literal');
  });
});

describe('the worker policy', () => {
  const policy: JobPolicy = {
    reposAllow: ['/srv/**', 'https://github.com/acme/*'],
    reposTrustConfig: ['/srv/trusted/**'],
    protocols: ['https', 'ssh'],
    envAllow: ['ANTHROPIC_*', 'MY_MODE'],
  };

  it("trusts a repository's own steps on the host only where repos.trustConfig says so", () => {
    assert.equal(repoConfigTrusted('/srv/trusted/app', policy), true);
    assert.equal(repoConfigTrusted('/srv/other/app', policy), false);
    assert.equal(repoConfigTrusted('https://github.com/acme/app.git', policy), false);
  });

  it('keeps allowlist globs from matching more than they say: ** needs a directory', () => {
    assert.throws(() => checkRepoAllowed('https://github.com/x', { ...policy, reposAllow: ['https://github.com/**/x'] }), /repos\.allow/);
  });

  it('limits repositories to repos.allow and protocols to git.protocols (file only for local paths)', () => {
    checkRepoAllowed('https://github.com/acme/app.git', policy);
    assert.throws(() => checkRepoAllowed('https://github.com/evil/app.git', policy), {
      type: 'RepoNotAllowed',
      message: /not in repos\.allow/,
    });
    assert.throws(() => checkRepoAllowed('git://github.com/acme/app.git', policy), {
      type: 'RepoNotAllowed',
      message: /protocol git is not enabled/,
    });
    assert.throws(() => checkRepoAllowed('ext::sh -c x', { ...policy, reposAllow: undefined }), { type: 'RepoNotAllowed' });
    checkRepoAllowed('/tmp/anything', { ...policy, reposAllow: undefined });
  });

  it('judges a local repository by its real path: a link cannot lead outside the allowlist', () => {
    const allowed = tempDir('drover-allowed-');
    const link = join(allowed, 'link');
    symlinkSync('/etc', link);
    assert.throws(() => checkRepoAllowed(link, { ...policy, reposAllow: [`${allowed}/**`] }), { type: 'RepoNotAllowed' });
  });

  it('passes into a container only the variables docker.envAllow names', () => {
    checkRuntimeEnv(['ANTHROPIC_API_KEY', 'MY_MODE'], policy);
    assert.throws(() => checkRuntimeEnv(['ANTHROPIC_API_KEY', 'AWS_SECRET_ACCESS_KEY'], policy), {
      type: 'EnvNotAllowed',
      message: /AWS_SECRET_ACCESS_KEY/,
    });
    assert.throws(() => checkRuntimeEnv(['ANTHROPIC_API_KEY'], { ...policy, envAllow: [] }), { type: 'EnvNotAllowed' });
  });
});
