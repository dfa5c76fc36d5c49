import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { DroverConfigInput } from '../../src/config/schema.js';
import { baseEnvFrom, withheldSecrets } from '../../src/worker/host.js';

const dir = mkdtempSync(join(tmpdir(), 'drover-worker-env-'));
/** No real ~/.config/drover/config.yaml is read: HOME and the XDG dirs point into the temp dir. */
const home = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') };
const config = (overrides: DroverConfigInput = {}) => loadConfig({ env: home, overrides });
let n = 0;
const envFile = (text: string) => {
  const p = join(dir, `${n++}.env`);
  writeFileSync(p, text);
  return p;
};

/** A worker's environment: its way into Temporal beside what agents need. */
const workerEnv: NodeJS.ProcessEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/worker',
  ANTHROPIC_API_KEY: 'sk-ant-1',
  TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
  TEMPORAL_NAMESPACE: 'ns.acct',
  TEMPORAL_API_KEY: 'temporal-secret',
  TEMPORAL_TLS_CA: '/certs/ca.pem',
  UNSET: undefined,
};

describe('the environment agents get', () => {
  it('drops every TEMPORAL_* variable and keeps the rest', () => {
    const base = baseEnvFrom(workerEnv, config());
    assert.deepEqual(base, { PATH: '/usr/bin:/bin', HOME: '/home/worker', ANTHROPIC_API_KEY: 'sk-ant-1' });
    for (const name of Object.keys(base)) assert.doesNotMatch(name, /^TEMPORAL_/);
  });

  it('adds the env files’ variables, which win over the environment, and drops TEMPORAL_* from them too', () => {
    const a = envFile('export ANTHROPIC_API_KEY="sk-ant-file"\nOPENAI_API_KEY=sk-oa\nTEMPORAL_API_KEY=from-file\n');
    const b = envFile("# later files win\nOPENAI_API_KEY='sk-oa-2'\nTEMPORAL_ADDRESS=evil:7233\n");
    const base = baseEnvFrom(workerEnv, config({ worker: { envFiles: [a, b] } }));
    assert.deepEqual(base, {
      PATH: '/usr/bin:/bin',
      HOME: '/home/worker',
      ANTHROPIC_API_KEY: 'sk-ant-file',
      OPENAI_API_KEY: 'sk-oa-2',
    });
  });

  it('keeps names that only contain TEMPORAL, not start with it', () => {
    const base = baseEnvFrom({ MY_TEMPORAL_NOTE: 'x', temporal_lower: 'y', TEMPORAL_X: 'z' }, config());
    assert.deepEqual(base, { MY_TEMPORAL_NOTE: 'x', temporal_lower: 'y' });
  });
});

describe('withheldSecrets', () => {
  it('holds exactly the TEMPORAL_* variables agents do not get', () => {
    const withheld = withheldSecrets(workerEnv, config());
    assert.deepEqual(withheld, {
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'temporal-secret',
      TEMPORAL_TLS_CA: '/certs/ca.pem',
    });
    const base = baseEnvFrom(workerEnv, config());
    for (const name of Object.keys(withheld)) assert.equal(name in base, false, name);
  });

  it('includes an API key given in the config file, not the environment', () => {
    const file = join(dir, 'with-key.yaml');
    writeFileSync(file, 'temporal:\n  apiKey: file-only-key\n');
    const fromFile = loadConfig({ file, env: home });
    assert.equal(fromFile.temporal.apiKey, 'file-only-key');
    const withheld = withheldSecrets({ PATH: '/bin' }, fromFile);
    assert.deepEqual(withheld, { TEMPORAL_API_KEY: 'file-only-key' });
    assert.equal('TEMPORAL_API_KEY' in baseEnvFrom({ PATH: '/bin' }, fromFile), false);
  });

  it('is empty for a worker with no Temporal variables and no key', () => {
    assert.deepEqual(withheldSecrets({ PATH: '/bin', ANTHROPIC_API_KEY: 'sk' }, config()), {});
  });
});
