import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWorkerIdentity, workerIdentity } from '../../src/shared/worker-identity.js';

describe('worker identity', () => {
  it('formats the host poller with its traits and parses them back', () => {
    const identity = workerIdentity('box-1a2b3c', 'host', { host: 'box.local', pid: 4242, runtime: 'docker:2' });
    assert.equal(identity, 'box-1a2b3c/host host=box.local pid=4242 runtime=docker:2');
    assert.deepEqual(parseWorkerIdentity(identity), {
      workerId: 'box-1a2b3c',
      role: 'host',
      traits: { host: 'box.local', pid: '4242', runtime: 'docker:2' },
    });
  });

  it('formats and parses a plain <id>/<role> with no traits', () => {
    for (const role of ['shared', 'landing', 'docker', 'claude-code', 'mini-swe-agent']) {
      const identity = workerIdentity('w_1.prod', role);
      assert.equal(identity, `w_1.prod/${role}`);
      assert.deepEqual(parseWorkerIdentity(identity), { workerId: 'w_1.prod', role, traits: {} });
    }
  });

  it('cleans odd host names so the identity still parses to one host trait', () => {
    const identity = workerIdentity('w1', 'host', { host: 'My Mac (2)=x.local', pid: 7, runtime: 'host' });
    assert.equal(identity.includes('My Mac'), false);
    const parsed = parseWorkerIdentity(identity);
    assert.ok(parsed, identity);
    assert.equal(parsed.workerId, 'w1');
    assert.equal(parsed.role, 'host');
    assert.deepEqual(parsed.traits, { host: 'My-Mac--2--x.local', pid: '7', runtime: 'host' });
  });

  it('keeps a long host name to 100 characters', () => {
    const parsed = parseWorkerIdentity(workerIdentity('w1', 'host', { host: 'h'.repeat(300), pid: 1, runtime: 'host' }));
    assert.equal(parsed?.traits.host, 'h'.repeat(100));
  });

  it('ignores unknown and empty traits', () => {
    assert.deepEqual(parseWorkerIdentity('w1/host host=a extra=1 pid= runtime=host')?.traits, { host: 'a', runtime: 'host' });
  });

  it('gives undefined for identities that are not Drover', () => {
    for (const identity of ['1234@host', '1234@my-host.local', '', '/host', 'w1/', 'w 1/host', 'a/b/c', `${'x'.repeat(101)}/host`]) {
      assert.equal(parseWorkerIdentity(identity), undefined, `parsed ${JSON.stringify(identity)}`);
    }
  });
});
