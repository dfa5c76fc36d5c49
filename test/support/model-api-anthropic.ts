/** The Anthropic Messages API as Claude Code uses it: POST /v1/messages, streamed. */
import type { ServerResponse } from 'node:http';
import { absolutePath, sse, type ModelApi, type Step } from './model-server.js';

const ERRORS = {
  401: ['authentication_error', 'invalid x-api-key'],
  429: ['rate_limit_error', 'rate limited by the scripted model server'],
  500: ['api_error', 'internal error in the scripted model server'],
} as const;

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export const anthropicApi: ModelApi = {
  name: 'anthropic',
  matches: (path) => path === '/v1/messages',
  isMain: (body) => Array.isArray(body.tools) && body.tools.length > 0,
  extra(path, _body, res) {
    if (path !== '/v1/messages/count_tokens') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: 100 }));
    return true;
  },
  respond(step, body, res, ids) {
    if ('fail' in step) {
      const [type, message] = ERRORS[step.fail];
      res.writeHead(step.fail, { 'content-type': 'application/json', ...(step.fail === 429 ? { 'retry-after': '0' } : {}) });
      res.end(JSON.stringify({ type: 'error', error: { type, message } }));
      return;
    }
    const blocks = blocksFor(step, body, () => ids.next('toolu'));
    const message = {
      id: ids.next('msg'),
      type: 'message',
      role: 'assistant',
      model: body.model ?? 'scripted',
      content: [] as Block[],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 120, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    const stopReason = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...message, content: blocks, stop_reason: stopReason, usage: { ...message.usage, output_tokens: 30 } }));
      return;
    }
    streamMessage(res, message, blocks, stopReason);
  },
};

function streamMessage(res: ServerResponse, message: object, blocks: Block[], stopReason: string): void {
  sse(res, { type: 'message_start', message }, 'message_start');
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      sse(res, { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, 'content_block_start');
      sse(res, { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } }, 'content_block_delta');
    } else {
      sse(res, { type: 'content_block_start', index, content_block: { ...block, input: {} } }, 'content_block_start');
      sse(
        res,
        { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } },
        'content_block_delta',
      );
    }
    sse(res, { type: 'content_block_stop', index }, 'content_block_stop');
  });
  sse(
    res,
    { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 30 } },
    'message_delta',
  );
  sse(res, { type: 'message_stop' }, 'message_stop');
  res.end();
}

function blocksFor(step: Exclude<Step, { stall: true } | { fail: number }>, body: unknown, id: () => string): Block[] {
  if ('say' in step) return [{ type: 'text', text: step.say }];
  if ('write' in step) {
    return [
      { type: 'tool_use', id: id(), name: 'Write', input: { file_path: absolutePath(body, step.write.path), content: step.write.content } },
    ];
  }
  if ('run' in step) return [{ type: 'tool_use', id: id(), name: 'Bash', input: { command: step.run, description: 'scripted command' } }];
  const options = step.ask.options ?? ['yes', 'no'];
  return [
    {
      type: 'tool_use',
      id: id(),
      name: 'AskUserQuestion',
      input: {
        questions: [
          {
            question: step.ask.question,
            header: 'Question',
            multiSelect: false,
            options: options.map((label) => ({ label, description: label })),
          },
        ],
      },
    },
  ];
}
