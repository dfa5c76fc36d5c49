/**
 * The real mini-swe-agent CLI (`mini`, PyPI mini-swe-agent, installed by the worker into Drover's cache when
 * missing) against the scripted model server, over Chat Completions as litellm sends them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import { agentSuite, assertAuthFailureNotRetried, SCRIPTED_MODEL } from '../support/agent-env.js';
import { drover, git, makeRepo, waitFor } from '../support/harness.js';
import { MINI_SUBMIT } from '../support/model-api-openai.js';
import { requestText } from '../support/model-server.js';

describe('mini-swe-agent backend (real CLI)', () => {
  const s = agentSuite('mini-swe-agent', { 'mini-swe-agent': { model: `openai/${SCRIPTED_MODEL}` } });
  const job = (repo: string): JobSpecInput => ({
    repo,
    prompt: 'Write a greeting to greeting.txt',
    agent: { kind: 'mini-swe-agent' },
    validate: [{ name: 'greeting exists', command: 'test -s greeting.txt' }],
  });

  it('edits through its bash tool, submits, validates and commits; usage lands in the result', async () => {
    s.model.script([{ run: 'echo "Hello from mini" > greeting.txt' }, { run: MINI_SUBMIT }]);
    const repo = makeRepo();
    const { jobId } = await s.env.client.submit(job(repo));
    const result = await s.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Hello from mini');
    assert.equal(result.usage?.turns, 2);
    assert.equal(result.usage?.inputTokens, 260);
    assert.equal(result.usage?.outputTokens, 44);
    assert.equal(result.usage?.costUsd, null, 'an unknown model has no price');
    const main = s.model.requests.filter((r) => r.main);
    assert.equal(main.at(-1)?.headers.authorization, `Bearer ${s.apiKey}`);
    assert.equal(main.at(-1)?.body.model, SCRIPTED_MODEL);
    const logs = await drover(s.env.config, ['logs', jobId]);
    assert.match(logs.stdout, /▶ \$ echo "Hello from mini" > greeting\.txt/);
    await s.assertNoSecretInHistory(jobId);
  });

  it('asks through the question file; drover answer starts a new run that is told the answer', async () => {
    s.model.script([
      { run: `printf '{"question": "Which greeting?"}' > "$DROVER_QUESTION_FILE"` },
      { run: MINI_SUBMIT },
      (req) => ({ run: `echo '${/A: ([A-Za-z]+)/.exec(requestText(req))?.[1] ?? 'no answer seen'}' > greeting.txt` }),
      { run: MINI_SUBMIT },
    ]);
    const repo = makeRepo();
    const { jobId } = await s.env.client.submit(job(repo));
    await waitFor('the question', async () => (await s.env.client.status(jobId)).status?.pendingQuestion ?? undefined);
    assert.equal((await s.env.client.status(jobId)).status?.pendingQuestion, 'Which greeting?');
    const answered = await drover(s.env.config, ['answer', jobId, 'Ahoy']);
    assert.equal(answered.code, 0, answered.stderr);
    const result = await s.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Ahoy');
    assert.equal(s.agentStarts(jobId).length, 2);
    assert.equal(result.usage?.turns, 4, 'both runs counted');
  });

  it('fails a 401 from the model as AgentAuthFailed without retrying', () => assertAuthFailureNotRetried(s, job(makeRepo())));
});
