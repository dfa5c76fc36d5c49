import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findTemporalCli } from '../../src/temporal/cli-binary.js';
import { tempDir } from '../support/harness.js';

function fakeBinary(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'temporal');
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding the Temporal CLI', () => {
  const root = tempDir('drover-find-');
  const onPath = fakeBinary(join(root, 'path-bin'));
  const cached = fakeBinary(join(root, 'cache', 'bin'));
  const explicit = fakeBinary(join(root, 'explicit'));

  it('prefers DROVER_TEMPORAL_CLI, then PATH, then the cache', () => {
    const base = { DROVER_CACHE_DIR: join(root, 'cache') };
    assert.equal(findTemporalCli({ ...base, DROVER_TEMPORAL_CLI: explicit, PATH: join(root, 'path-bin') }), explicit);
    assert.equal(findTemporalCli({ ...base, PATH: `/nonexistent:${join(root, 'path-bin')}` }), onPath);
    assert.equal(findTemporalCli({ ...base, PATH: '/nonexistent' }), cached);
    assert.equal(findTemporalCli({ DROVER_CACHE_DIR: join(root, 'empty'), PATH: '/nonexistent' }), undefined);
  });

  it('says clearly when DROVER_TEMPORAL_CLI points at nothing', () => {
    assert.throws(
      () => findTemporalCli({ DROVER_TEMPORAL_CLI: join(root, 'missing') }),
      /DROVER_TEMPORAL_CLI=.* is not an executable file/,
    );
  });
});
