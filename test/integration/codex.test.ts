/** The real Codex CLI (@openai/codex from npm) against the scripted model server (Responses API). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import { agentSuite, assertAuthFailureNotRetried } from '../support/agent-env.js';
import { drover, git, makeRepo, waitFor } from '../support/harness.js';
import { requestText } from '../support/model-server.js';

describe('codex backend (real CLI)', () => {
  const s = agentSuite('codex');
  const job = (repo: string): JobSpecInput => ({
    repo,
    prompt: 'Write a greeting to greeting.txt',
    agent: { kind: 'codex' },
    validate: [{ name: 'greeting exists', command: 'test -s greeting.txt' }],
  });

  it('edits a file through a scripted tool call, validates, commits; the result has the thread id and usage', async () => {
    s.model.script([{ write: { path: 'greeting.txt', content: 'Hello from Codex\n' } }, { say: 'Wrote greeting.txt.' }]);
    const repo = makeRepo();
    const { jobId } = await s.env.client.submit(job(repo));
    const result = await s.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Hello from Codex');
    assert.match(result.agentSession ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(result.usage?.inputTokens, 300, 'two model calls of 150 input tokens');
    assert.equal(result.usage?.outputTokens, 50);
    assert.equal(result.usage?.costUsd, null, 'codex reports no cost');
    const main = s.model.requests.filter((r) => r.main);
    assert.equal(main.at(-1)?.headers.authorization, `Bearer ${s.apiKey}`, 'the key came from the worker environment');
    const logs = await drover(s.env.config, ['logs', jobId]);
    assert.match(logs.stdout, /▶ \$ .*greeting\.txt/);
    await s.assertNoSecretInHistory(jobId);
  });

  it('keeps the .drover/question.json protocol: the answer resumes the same thread with `codex exec resume`', async () => {
    s.model.script([
      { run: `printf '{"question": "Which greeting?"}' > .drover/question.json` },
      { say: 'I asked.' },
      (req) => ({
        write: { path: 'greeting.txt', content: `${/is:\\n\\n([^"\\\\]+)/.exec(requestText(req))?.[1] ?? 'no answer seen'}\n` },
      }),
      { say: 'Done.' },
    ]);
    const repo = makeRepo();
    const { jobId } = await s.env.client.submit(job(repo));
    await waitFor('the question', async () => (await s.env.client.status(jobId)).status?.pendingQuestion ?? undefined);
    const answered = await drover(s.env.config, ['answer', jobId, 'Ahoy']);
    assert.equal(answered.code, 0, answered.stderr);
    const result = await s.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Ahoy');
    const starts = s.agentStarts(jobId);
    assert.equal(starts.length, 2);
    assert.deepEqual(starts[1]!.argv.slice(-3), ['resume', result.agentSession, '-']);
    assert.equal(result.usage?.inputTokens, 600, 'the thread total is not counted twice');
  });

  it('fails a 401 from the model as AgentAuthFailed without retrying', () => assertAuthFailureNotRetried(s, job(makeRepo())));
});
