/**
 * The worker environment that points the real agent CLIs at the scripted model server: the way a user
 * points them at their provider, through the worker's environment and the CLIs' own config files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from './harness.js';
import type { ModelServer } from './model-server.js';

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
  };
}
