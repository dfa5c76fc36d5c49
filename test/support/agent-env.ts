/**
 * The worker environment that points the real agent CLIs at the scripted model server: the way a user
 * points them at their provider, through the worker's environment and the CLIs' own config files.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { dataPaths } from '../../src/config/paths.js';
import { cacheDir } from '../../src/temporal/cli-binary.js';
import type { DroverConfigInput } from '../../src/config/schema.js';
import type { AgentKind, JobSpecInput } from '../../src/shared/schemas.js';
import { historyText, REPO_ROOT, startTestEnv, startTestServer, tempDir, waitFor, type TestEnv, type TestServer } from './harness.js';
import { startModelServer, type ModelServer } from './model-server.js';

export const SCRIPTED_MODEL = 'scripted-model';

export function agentWorkerEnv(model: ModelServer, apiKey: string): Record<string, string> {
  const home = tempDir('drover-agent-home-');
  const codexHome = join(home, 'codex');
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    join(codexHome, 'config.toml'),
    [
      `model = "${SCRIPTED_MODEL}"`,
      'model_provider = "scripted"',
      '',
      '[model_providers.scripted]',
      'name = "Scripted"',
      `base_url = "${model.url}/v1"`,
      'wire_api = "responses"',
      'env_key = "SCRIPTED_MODEL_API_KEY"',
      // Drover retries the activity (with backoff); the CLI's own retries would only slow the tests.
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
    ].join('\n'),
  );
  const opencodeConfig = join(home, 'opencode.json');
  writeFileSync(
    opencodeConfig,
    JSON.stringify({
      $schema: 'https://opencode.ai/config.json',
      autoupdate: false,
      share: 'disabled',
      provider: {
        scripted: {
          npm: '@ai-sdk/openai-compatible',
          name: 'Scripted',
          options: { baseURL: `${model.url}/v1`, apiKey: '{env:SCRIPTED_MODEL_API_KEY}' },
          models: { [SCRIPTED_MODEL]: { name: 'Scripted model', tool_call: true, limit: { context: 128000, output: 8192 } } },
        },
      },
    }),
  );
  return {
    PATH: `${REPO_ROOT}/node_modules/.bin:${process.env.PATH ?? ''}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: apiKey,
    CLAUDE_CODE_MAX_RETRIES: '0',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CODEX_HOME: codexHome,
    OPENCODE_CONFIG: opencodeConfig,
    SCRIPTED_MODEL_API_KEY: apiKey,
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_SHARE: '1',
    // OpenCode fetches plugin metadata from npm on a fresh HOME; keep the tests off the network.
    npm_config_registry: 'http://127.0.0.1:9/',
    // mini-swe-agent (litellm): an OpenAI-compatible endpoint, the model named openai/<name>.
    OPENAI_API_BASE: `${model.url}/v1`,
    OPENAI_API_KEY: apiKey,
    // Agents Drover installs (mini-swe-agent's venv) stay in the machine's cache, not the test's fresh HOME.
    DROVER_CACHE_DIR: cacheDir(process.env),
  };
}

export interface AgentSuite {
  server: TestServer;
  model: ModelServer;
  env: TestEnv;
  apiKey: string;
  /** The drover log entries that started an agent, with the argv they ran. */
  agentStarts(jobId: string): { text: string; argv: string[] }[];
  /** Fails when the API key appears anywhere in the job's workflow history. */
  assertNoSecretInHistory(jobId: string): Promise<void>;
}

/** One dev server, one scripted model server and one worker offering `kind`, for a describe block. */
export function agentSuite(kind: AgentKind, agents: DroverConfigInput['agents'] = {}): AgentSuite {
  const suite = { apiKey: `sk-test-${randomBytes(16).toString('hex')}` } as AgentSuite;
  before(async () => {
    suite.server = await startTestServer();
    suite.model = await startModelServer();
    suite.env = await startTestEnv(
      suite.server.address,
      { worker: { backends: [kind] }, agents },
      agentWorkerEnv(suite.model, suite.apiKey),
    );
  });
  after(async () => {
    await suite.env?.stop();
    await suite.model?.close();
    await suite.server?.stop();
  });
  suite.agentStarts = (jobId) =>
    readFileSync(dataPaths(suite.env.config.dataDir).jobLog(jobId), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; text: string; argv?: string[] })
      .filter((e): e is { source: string; text: string; argv: string[] } => e.source === 'drover' && Array.isArray(e.argv));
  suite.assertNoSecretInHistory = async (jobId) => {
    const text = historyText(await suite.env.client.handle(jobId).fetchHistory());
    assert.ok(!text.includes(suite.apiKey), 'the API key is nowhere in the workflow history');
  };
  return suite;
}

/** A 401 from the model ends the job as AgentAuthFailed after exactly one model call: no retry. */
export async function assertAuthFailureNotRetried(s: AgentSuite, spec: JobSpecInput): Promise<void> {
  s.model.script([{ fail: 401 }]);
  const before = s.model.requests.filter((r) => r.main).length;
  const { jobId } = await s.env.client.submit(spec);
  const report = await waitFor('the job to end', async () => {
    const r = await s.env.client.status(jobId);
    return r.execution === 'RUNNING' ? undefined : r;
  });
  assert.equal(report.failure?.type, 'AgentAuthFailed');
  assert.match(report.failure?.message ?? '', /401/);
  assert.equal(s.model.requests.filter((r) => r.main).length - before, 1, 'one model call: no retry');
  await s.assertNoSecretInHistory(jobId);
}
