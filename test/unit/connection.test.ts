import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { TemporalConfig } from '../../src/config/schema.js';
import { AppError } from '../../src/shared/errors.js';
import { connectionSettings, tlsEnabled, unreachable } from '../../src/temporal/connection.js';

const dir = mkdtempSync(join(tmpdir(), 'drover-connection-'));
/** No real ~/.config/drover/config.yaml is read: HOME and the XDG dirs point into the temp dir. */
const home = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') };
let n = 0;
const write = (name: string, text: string) => {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
};
const temporal = (input: Record<string, unknown>) => TemporalConfig.parse(input);

/** Runs fn, asserts it throws an AppError of the given type with a one-line message, and returns that message. */
function appErrorOf(fn: () => unknown, type: string): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AppError, `expected an AppError, got ${String(caught)}`);
  assert.equal(caught.type, type);
  assert.equal(caught.message.includes('\n'), false, `not one line: ${caught.message}`);
  return caught.message;
}

describe('connection settings from the environment', () => {
  it('has local defaults and TLS off with nothing set', () => {
    const c = loadConfig({ env: home });
    assert.equal(c.temporal.address, '127.0.0.1:7233');
    assert.equal(c.temporal.namespace, 'default');
    assert.equal(c.temporal.apiKey, undefined);
    assert.deepEqual(c.temporal.tls, {});
    assert.equal(c.ui.url, undefined);
    assert.equal(tlsEnabled(c.temporal), false);
    assert.deepEqual(connectionSettings(c.temporal), { address: '127.0.0.1:7233' });
  });

  it('reads the Temporal CLI variables and DROVER_UI_URL', () => {
    const c = loadConfig({
      env: {
        ...home,
        TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
        TEMPORAL_NAMESPACE: 'ns.acct',
        TEMPORAL_API_KEY: 'key-123',
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CERT: '/certs/client.pem',
        TEMPORAL_TLS_KEY: '/certs/client.key',
        TEMPORAL_TLS_CA: '/certs/ca.pem',
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
        DROVER_UI_URL: 'https://ui.example.com',
      },
    });
    assert.equal(c.temporal.address, 'ns.acct.tmprl.cloud:7233');
    assert.equal(c.temporal.namespace, 'ns.acct');
    assert.equal(c.temporal.apiKey, 'key-123');
    assert.deepEqual(c.temporal.tls, {
      enabled: true,
      cert: '/certs/client.pem',
      key: '/certs/client.key',
      ca: '/certs/ca.pem',
      serverName: 'temporal.internal',
    });
    assert.equal(c.ui.url, 'https://ui.example.com');
  });

  it('reads TEMPORAL_TLS as a switch: true, false and 0', () => {
    const tlsOf = (value: string) => loadConfig({ env: { ...home, TEMPORAL_TLS: value } }).temporal.tls.enabled;
    assert.equal(tlsOf('true'), true);
    assert.equal(tlsOf('1'), true);
    assert.equal(tlsOf('false'), false);
    assert.equal(tlsOf('0'), false);
    assert.equal(tlsOf('FALSE'), false);
  });

  it('turns TLS on with an API key alone, and with a CA alone', () => {
    const withKey = loadConfig({ env: { ...home, TEMPORAL_API_KEY: 'k' } }).temporal;
    assert.equal(withKey.tls.enabled, undefined);
    assert.equal(tlsEnabled(withKey), true);
    assert.deepEqual(connectionSettings(withKey), { address: '127.0.0.1:7233', apiKey: 'k', tls: true });

    const withCa = loadConfig({ env: { ...home, TEMPORAL_TLS_CA: '/nowhere/ca.pem' } }).temporal;
    assert.equal(tlsEnabled(withCa), true);
  });

  it('keeps TLS off with TEMPORAL_TLS=false even with a CA, and reads no file then', () => {
    const c = loadConfig({ env: { ...home, TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: join(dir, 'missing-ca.pem') } }).temporal;
    assert.equal(c.tls.ca, join(dir, 'missing-ca.pem'));
    assert.equal(tlsEnabled(c), false);
    // The CA does not exist: TLS off means it is never opened.
    assert.deepEqual(connectionSettings(c), { address: '127.0.0.1:7233' });
  });

  it('rejects a client certificate without its key in one line', () => {
    const message = appErrorOf(() => loadConfig({ env: { ...home, TEMPORAL_TLS_CERT: '/certs/client.pem' } }), 'ConfigInvalid');
    assert.match(message, /temporal\.tls/);
    assert.match(message, /cert and key go together/);
    const keyOnly = appErrorOf(() => loadConfig({ env: { ...home, TEMPORAL_TLS_KEY: '/certs/client.key' } }), 'ConfigInvalid');
    assert.match(keyOnly, /cert and key go together/);
  });
});

describe('connection settings from the config file', () => {
  it('reads temporal.* and ui.url from YAML', () => {
    const f = write(
      'full.yaml',
      [
        'temporal:',
        '  address: temporal.corp:7233',
        '  namespace: corp',
        '  apiKey: file-key',
        '  tls:',
        '    enabled: true',
        '    ca: /etc/ca.pem',
        '    cert: /etc/client.pem',
        '    key: /etc/client.key',
        '    serverName: temporal.corp',
        'ui:',
        '  url: https://ui.corp',
        '',
      ].join('\n'),
    );
    const c = loadConfig({ file: f, env: home });
    assert.equal(c.temporal.address, 'temporal.corp:7233');
    assert.equal(c.temporal.namespace, 'corp');
    assert.equal(c.temporal.apiKey, 'file-key');
    assert.deepEqual(c.temporal.tls, {
      enabled: true,
      ca: '/etc/ca.pem',
      cert: '/etc/client.pem',
      key: '/etc/client.key',
      serverName: 'temporal.corp',
    });
    assert.equal(c.ui.url, 'https://ui.corp');
  });

  it('reads the file from XDG_CONFIG_HOME when none is named', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'drover-xdg-'));
    mkdirSync(join(xdg, 'drover'));
    writeFileSync(join(xdg, 'drover', 'config.yaml'), 'temporal: {address: xdg:7233, tls: {ca: /xdg/ca.pem}}\n');
    const c = loadConfig({ env: { ...home, XDG_CONFIG_HOME: xdg } });
    assert.equal(c.temporal.address, 'xdg:7233');
    assert.equal(c.temporal.tls.ca, '/xdg/ca.pem');
  });

  it('moves an old config file temporal.uiUrl to ui.url, and leaves no uiUrl behind', () => {
    const f = write('old.yaml', 'temporal:\n  address: old:7233\n  uiUrl: https://old-ui.example.com\n');
    const c = loadConfig({ file: f, env: home });
    assert.equal(c.ui.url, 'https://old-ui.example.com');
    assert.equal('uiUrl' in c.temporal, false);
    // A ui.url (here from DROVER_UI_URL) wins over the deprecated setting.
    const newer = loadConfig({ file: f, env: { ...home, DROVER_UI_URL: 'https://new-ui.example.com' } });
    assert.equal(newer.ui.url, 'https://new-ui.example.com');
  });

  it('rejects cert without key in the file in one line naming the file', () => {
    const f = write('cert-only.yaml', 'temporal:\n  tls:\n    cert: /etc/client.pem\n');
    const message = appErrorOf(() => loadConfig({ file: f, env: home }), 'ConfigInvalid');
    assert.match(message, /cert and key go together/);
    assert.ok(message.includes(f), message);
  });

  it('layers flags over environment over file, setting by setting', () => {
    const f = write(
      'layers.yaml',
      'temporal:\n  address: file:1\n  namespace: file-ns\n  apiKey: file-key\n  tls: {ca: /file/ca.pem, serverName: file-name}\nui: {url: https://file-ui}\n',
    );
    const env = {
      ...home,
      TEMPORAL_ADDRESS: 'env:2',
      TEMPORAL_API_KEY: 'env-key',
      TEMPORAL_TLS_CA: '/env/ca.pem',
      TEMPORAL_TLS: 'true',
      DROVER_UI_URL: 'https://env-ui',
    };
    const c = loadConfig({
      file: f,
      env,
      overrides: { temporal: { address: 'flag:3', tls: { enabled: false } }, ui: { url: 'https://flag-ui' } },
    });
    assert.equal(c.temporal.address, 'flag:3');
    assert.equal(c.temporal.namespace, 'file-ns');
    assert.equal(c.temporal.apiKey, 'env-key');
    assert.equal(c.temporal.tls.ca, '/env/ca.pem');
    assert.equal(c.temporal.tls.serverName, 'file-name');
    assert.equal(c.temporal.tls.enabled, false);
    assert.equal(c.ui.url, 'https://flag-ui');
    assert.equal(tlsEnabled(c.temporal), false);

    const noFlags = loadConfig({ file: f, env });
    assert.equal(noFlags.temporal.address, 'env:2');
    assert.equal(noFlags.temporal.tls.enabled, true);
    assert.equal(noFlags.ui.url, 'https://env-ui');
  });
});

describe('connectionSettings', () => {
  it('reads the CA, client certificate and key into Buffers, with the server name', () => {
    const ca = write('ca.pem', 'CA-BYTES');
    const cert = write('client.pem', 'CERT-BYTES');
    const key = write('client.key', 'KEY-BYTES');
    const c = loadConfig({
      env: { ...home, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_SERVER_NAME: 'srv' },
    });
    const s = connectionSettings(c.temporal);
    assert.equal(s.address, '127.0.0.1:7233');
    assert.equal(s.apiKey, undefined);
    assert.ok(s.tls && typeof s.tls === 'object', `expected a TLS config, got ${String(s.tls)}`);
    assert.equal(s.tls.serverNameOverride, 'srv');
    assert.ok(Buffer.isBuffer(s.tls.serverRootCACertificate));
    assert.equal(s.tls.serverRootCACertificate.toString(), 'CA-BYTES');
    assert.ok(s.tls.clientCertPair);
    assert.ok(Buffer.isBuffer(s.tls.clientCertPair.crt));
    assert.equal(s.tls.clientCertPair.crt.toString(), 'CERT-BYTES');
    assert.equal(s.tls.clientCertPair.key.toString(), 'KEY-BYTES');
  });

  it('gives tls: true when TLS is only switched on, and passes the API key', () => {
    assert.deepEqual(connectionSettings(temporal({ address: 'a:1', tls: { enabled: true } })), { address: 'a:1', tls: true });
    assert.deepEqual(connectionSettings(temporal({ address: 'a:1', apiKey: 'k', tls: { enabled: true } })), {
      address: 'a:1',
      apiKey: 'k',
      tls: true,
    });
    // An API key with TLS forced off would travel in the clear: refused.
    assert.throws(
      () => connectionSettings(temporal({ address: 'a:1', apiKey: 'k', tls: { enabled: false } })),
      (err: unknown) => err instanceof AppError && err.type === 'ConfigInvalid' && /in the clear/.test(err.message),
    );
  });

  it('gives only the CA when no client certificate is set', () => {
    const ca = write('only-ca.pem', 'ONLY-CA');
    const s = connectionSettings(temporal({ tls: { ca } }));
    assert.ok(s.tls && typeof s.tls === 'object');
    assert.equal(s.tls.serverRootCACertificate?.toString(), 'ONLY-CA');
    assert.equal(s.tls.clientCertPair, undefined);
    assert.equal(s.tls.serverNameOverride, undefined);
  });

  it('names TEMPORAL_TLS_CA and the path when the CA file is missing', () => {
    const missing = join(dir, 'no-such-ca.pem');
    const message = appErrorOf(() => connectionSettings(temporal({ tls: { ca: missing } })), 'ConfigInvalid');
    assert.match(message, /TEMPORAL_TLS_CA/);
    assert.ok(message.includes(missing), message);
    assert.match(message, /ENOENT/);
  });

  it('names TEMPORAL_TLS_KEY when the client key is missing', () => {
    const cert = write('c.pem', 'C');
    const missing = join(dir, 'no-such.key');
    const message = appErrorOf(() => connectionSettings(temporal({ tls: { cert, key: missing } })), 'ConfigInvalid');
    assert.match(message, /TEMPORAL_TLS_KEY/);
    assert.ok(message.includes(missing), message);
  });
});

describe('unreachable', () => {
  const plain = temporal({ address: 'temporal.example.com:7233' });
  const secure = temporal({ address: 'secure.example.com:7233', tls: { ca: '/etc/ca.pem' } });

  it('is a one-line ServerUnavailable error naming the address and the first line of the reason', () => {
    const err = unreachable(plain, new Error('14 UNAVAILABLE: No connection established\n  at grpc stack line\n  more'));
    assert.ok(err instanceof AppError);
    assert.equal(err.type, 'ServerUnavailable');
    assert.equal(err.retryable, true);
    assert.equal(err.message.includes('\n'), false, err.message);
    assert.ok(err.message.includes('temporal.example.com:7233'), err.message);
    assert.ok(err.message.includes('14 UNAVAILABLE: No connection established'), err.message);
    assert.equal(err.message.includes('grpc stack line'), false);
  });

  it('hints at TEMPORAL_TLS when TLS is off', () => {
    const err = unreachable(plain, new Error('14 UNAVAILABLE: Connection dropped'));
    assert.match(err.message, /TEMPORAL_TLS=true/);
    assert.doesNotMatch(err.message, /check TEMPORAL_TLS_CA/);
  });

  it('hints at TEMPORAL_TLS_CA when TLS is on', () => {
    const err = unreachable(secure, new Error('14 UNAVAILABLE: handshake failed'));
    assert.ok(err.message.includes('secure.example.com:7233'), err.message);
    assert.match(err.message, /check TEMPORAL_TLS_CA/);
    assert.doesNotMatch(err.message, /TEMPORAL_TLS=true/);
  });

  it('uses the caller hint when nothing listens (connection refused), and the TLS hint otherwise', () => {
    const refused = unreachable(plain, new Error('14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7233'), 'is `drover dev` running?');
    assert.match(refused.message, /is `drover dev` running\?$/);
    assert.doesNotMatch(refused.message, /TEMPORAL_TLS/);
    const tls = unreachable(plain, new Error('14 UNAVAILABLE: Connection dropped'), 'is `drover dev` running?');
    assert.match(tls.message, /TEMPORAL_TLS=true/);
    assert.doesNotMatch(tls.message, /drover dev/);
  });

  it('takes a reason that is not an Error', () => {
    const err = unreachable(secure, 'deadline exceeded');
    assert.equal(err.type, 'ServerUnavailable');
    assert.ok(err.message.includes('(deadline exceeded)'), err.message);
    assert.match(err.message, /TEMPORAL_TLS_CA/);
  });
});
