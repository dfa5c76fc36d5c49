import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { createReadLogActivities } from '../../src/activities/read-log.js';
import { openPage } from '../../src/client/remote-log.js';
import { dataPaths } from '../../src/config/paths.js';
import { tempDir } from '../support/harness.js';

/** A reader's one-time key pair, as `drover logs` makes one for each page. */
const reader = () => {
  const keys = generateKeyPairSync('x25519');
  return { keys, sealTo: keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
};

function logWith(lines: string[]) {
  const paths = dataPaths(tempDir('drover-seal-'));
  const file = paths.jobLog('job-1');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return { paths, file };
}

describe('log pages sealed to their reader', () => {
  it('opens with the reader key only, and the sealed text shows none of the log', async () => {
    const { paths } = logWith(['{"text":"hello from the agent"}', '{"text":"second line"}']);
    const read = createReadLogActivities({ paths, redact: (t) => t });
    const me = reader();
    const page = await read.readJobLogPage({ jobId: 'job-1', offset: 0, maxBytes: 1024, sealTo: me.sealTo });
    assert.equal(openPage(page.sealed, me.keys.privateKey), '{"text":"hello from the agent"}\n{"text":"second line"}\n');
    assert.doesNotMatch(Buffer.from(page.sealed, 'base64').toString('latin1'), /hello from the agent/);
    assert.throws(() => openPage(page.sealed, reader().keys.privateKey), /auth|decrypt/i);
    assert.equal(page.exists, true);
    assert.equal(page.nextOffset, page.size);
  });

  it('redacts before it seals, and refuses a key that is not X25519', async () => {
    const { paths } = logWith(['{"text":"token sk-secret-123456"}']);
    const read = createReadLogActivities({ paths, redact: (t) => t.split('sk-secret-123456').join('[redacted:API_KEY]') });
    const me = reader();
    const page = await read.readJobLogPage({ jobId: 'job-1', offset: 0, maxBytes: 1024, sealTo: me.sealTo });
    assert.equal(openPage(page.sealed, me.keys.privateKey), '{"text":"token [redacted:API_KEY]"}\n');
    const rsa = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    await assert.rejects(read.readJobLogPage({ jobId: 'job-1', offset: 0, maxBytes: 1024, sealTo: rsa }), /not an X25519 public key/);
  });

  it('waits for the log to grow when asked to, and answers as soon as it does', async () => {
    const { paths, file } = logWith(['{"text":"one"}']);
    const read = createReadLogActivities({ paths, redact: (t) => t });
    const me = reader();
    const first = await read.readJobLogPage({ jobId: 'job-1', offset: 0, maxBytes: 1024, sealTo: me.sealTo });
    setTimeout(() => appendFileSync(file, '{"text":"two"}\n'), 400);
    const started = Date.now();
    const next = await read.readJobLogPage({ jobId: 'job-1', offset: first.nextOffset, maxBytes: 1024, sealTo: me.sealTo, waitMs: 5_000 });
    const waited = Date.now() - started;
    assert.equal(openPage(next.sealed, me.keys.privateKey), '{"text":"two"}\n');
    assert.ok(waited >= 300 && waited < 4_000, `answered ${waited} ms after it was asked`);
  });
});
