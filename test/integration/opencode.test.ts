/** The real OpenCode CLI (opencode-ai from npm) against the scripted model server (Chat Completions). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobSpecInput } from '../../src/shared/schemas.js';
import { agentSuite, assertAuthFailureNotRetried, SCRIPTED_MODEL } from '../support/agent-env.js';
import { drover, git, makeRepo, waitFor } from '../support/harness.js';
import { requestText } from '../support/model-server.js';

describe('opencode backend (real CLI)', () => {
  const s = agentSuite('opencode', { opencode: { model: `scripted/${SCRIPTED_MODEL}` } });
  const job = (repo: string): JobSpecInput => ({
    repo,
    prompt: 'Write a greeting to greeting.txt',
    agent: { kind: 'opencode' },
    validate: [{ name: 'greeting exists', command: 'test -s greeting.txt' }],
  });

  it('edits a file through a scripted tool call, validates, commits; the result has the session id and usage', async () => {
    s.model.script([{ write: { path: 'greeting.txt', content: 'Hello from OpenCode\n' } }, { say: 'Wrote greeting.txt.' }]);
    const repo = makeRepo();
    const { jobId } = await s.env.client.submit(job(repo));
    const result = await s.env.client.result(jobId);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.failure));
    assert.equal(git(repo, 'show', `drover/${jobId}:greeting.txt`), 'Hello from OpenCode');
    assert.match(result.agentSession ?? '', /^ses_/);
    assert.equal(result.usage?.turns, 2);
    assert.equal(result.usage?.inputTokens, 260);
    assert.equal(result.usage?.outputTokens, 44);
    const main = s.model.requests.filter((r) => r.main);
    assert.equal(main.at(-1)?.headers.authorization, `Bearer ${s.apiKey}`);
    const logs = await drover(s.env.config, ['logs', jobId]);
    assert.match(logs.stdout, /✎ write .*greeting\.txt/);
    await s.assertNoSecretInHistory(jobId);
  });

  it('keeps the .drover/question.json protocol: the answer continues the same session with --session', async () => {
    s.model.script([
      { write: { path: '.drover/question.json', content: '{"question": "Which greeting?"}' } },
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
    assert.ok(starts[1]!.argv.includes(`--session=${result.agentSession}`), starts[1]!.argv.join(' '));
  });

  it('fails a 401 from the model as AgentAuthFailed without retrying', () => assertAuthFailureNotRetried(s, job(makeRepo())));
});
