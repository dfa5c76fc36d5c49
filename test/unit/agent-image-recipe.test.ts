import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { agentRecipe, defaultImageTag } from '../../src/runtimes/docker/image.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the agent image recipe', () => {
  it('is one list, docker/agent-packages.json, that the image builder and the Dockerfile both read', () => {
    const recipe = JSON.parse(read('docker/agent-packages.json'));
    const { debian, npm, pip } = agentRecipe();
    assert.deepEqual({ debian, npm, pip }, { debian: recipe.debian, npm: recipe.npm, pip: recipe.pip });
    const dockerfile = read('docker/agent.Dockerfile');
    for (const list of ['debian', 'npm', 'pip']) assert.match(dockerfile, new RegExp(`agent-packages\\.json'\\)\\.${list}\\.join`));
    for (const pinned of [...recipe.npm, ...recipe.pip]) assert.equal(dockerfile.includes(pinned), false, `${pinned} is pinned twice`);
  });

  it('names the image by a hash of the recipe', () => {
    assert.match(defaultImageTag(), /^drover-agent:[0-9a-f]{12}$/);
  });
});
