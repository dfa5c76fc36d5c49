/**
 * The two OpenAI dialects the CLIs speak: the Responses API (Codex, POST /v1/responses) and Chat Completions
 * (OpenCode through @ai-sdk/openai-compatible, POST /v1/chat/completions), both streamed.
 */
import type { ServerResponse } from 'node:http';
import { absolutePath, sse, type ModelApi, type Step } from './model-server.js';

type Speakable = Exclude<Step, { stall: true } | { fail: number }>;
type ToolCall = { name: string; args: Record<string, unknown> } | { custom: string; input: string };

function fail(res: ServerResponse, status: number): void {
  // retry-after-ms 0: CLIs that retry by themselves (OpenCode: 5 times, not configurable) do it at once.
  res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '0', ...(status === 429 ? { 'retry-after': '0' } : {}) });
  res.end(
    JSON.stringify({
      error: {
        message: `scripted model server: HTTP ${status}`,
        type: status === 401 ? 'invalid_api_key' : 'scripted_error',
        code: `scripted_${status}`,
      },
    }),
  );
}

const toolNames = (body: any): string[] => (body.tools ?? []).map((t: any) => t.name ?? t.function?.name ?? t.type).filter(Boolean);

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Codex's tools depend on the model it thinks it talks to; use what the request declares. */
function codexCall(step: Speakable, body: any): ToolCall | undefined {
  const tools = toolNames(body);
  if ('write' in step) {
    if (tools.includes('apply_patch')) {
      const lines = step.write.content
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => `+${l}`);
      return { custom: 'apply_patch', input: `*** Begin Patch\n*** Add File: ${step.write.path}\n${lines.join('\n')}\n*** End Patch\n` };
    }
    return { name: 'exec_command', args: { cmd: `printf %s ${shellQuote(step.write.content)} > ${shellQuote(step.write.path)}` } };
  }
  if ('run' in step)
    return tools.includes('shell')
      ? { name: 'shell', args: { command: ['bash', '-lc', step.run] } }
      : { name: 'exec_command', args: { cmd: step.run } };
  return undefined;
}

export const responsesApi: ModelApi = {
  name: 'responses',
  matches: (path) => path === '/v1/responses',
  isMain: (body) => toolNames(body).length > 0,
  extra(path, _body, res) {
    if (path !== '/v1/models') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [], models: [] }));
    return true;
  },
  respond(step, body, res, ids) {
    if ('fail' in step) return fail(res, step.fail);
    const id = ids.next('resp');
    const usage = {
      input_tokens: 150,
      input_tokens_details: { cached_tokens: 10 },
      output_tokens: 25,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 175,
    };
    sse(res, { type: 'response.created', response: { id } }, 'response.created');
    const call = codexCall(step, body);
    let item: Record<string, unknown>;
    if (call && 'custom' in call) {
      item = {
        type: 'custom_tool_call',
        id: ids.next('ctc'),
        status: 'completed',
        call_id: ids.next('call'),
        name: call.custom,
        input: call.input,
      };
    } else if (call) {
      item = {
        type: 'function_call',
        id: ids.next('fc'),
        status: 'completed',
        call_id: ids.next('call'),
        name: call.name,
        arguments: JSON.stringify(call.args),
      };
    } else {
      const text = 'say' in step ? step.say : 'ask' in step ? step.ask.question : 'ok';
      item = {
        type: 'message',
        id: ids.next('msg'),
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text, annotations: [] }],
      };
      sse(
        res,
        { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } },
        'response.output_item.added',
      );
      sse(
        res,
        { type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: item.id, delta: text },
        'response.output_text.delta',
      );
    }
    if (item.type !== 'message') sse(res, { type: 'response.output_item.added', output_index: 0, item }, 'response.output_item.added');
    sse(res, { type: 'response.output_item.done', output_index: 0, item }, 'response.output_item.done');
    sse(res, { type: 'response.completed', response: { id, usage } }, 'response.completed');
    res.end();
  },
};

/** mini-swe-agent ends its run when a command prints this. */
export const MINI_SUBMIT = 'echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT';

/**
 * OpenCode's tools: write {filePath, content} and bash {command, description}. mini-swe-agent has bash alone
 * and must call it every turn: its last word is the submit command.
 */
function chatCall(step: Speakable, body: any): ToolCall | undefined {
  const tools = toolNames(body);
  const mini = tools.length === 1 && tools[0] === 'bash' && JSON.stringify(body).includes('COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT');
  if (mini && ('say' in step || 'ask' in step)) return { name: 'bash', args: { command: MINI_SUBMIT } };
  // OpenHands (SDK agent): terminal {command}, file_editor {command, path, file_text}, finish {message}.
  if (tools.includes('terminal')) {
    if ('write' in step)
      return { name: 'file_editor', args: { command: 'create', path: absolutePath(body, step.write.path), file_text: step.write.content } };
    if ('run' in step) return { name: 'terminal', args: { command: step.run } };
    if ('say' in step) return { name: 'finish', args: { message: step.say } };
  }
  if ('write' in step && tools.includes('write'))
    return { name: 'write', args: { filePath: absolutePath(body, step.write.path), content: step.write.content } };
  if ('write' in step)
    return {
      name: 'bash',
      args: { command: `printf %s ${shellQuote(step.write.content)} > ${shellQuote(step.write.path)}`, description: 'write a file' },
    };
  if ('run' in step) return { name: 'bash', args: { command: step.run, description: 'scripted command' } };
  return undefined;
}

export const chatCompletionsApi: ModelApi = {
  name: 'chat',
  matches: (path) => path === '/v1/chat/completions',
  isMain: (body) => toolNames(body).length > 0,
  respond(step, body, res, ids) {
    if ('fail' in step) return fail(res, step.fail);
    const base = {
      id: ids.next('chatcmpl'),
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'scripted',
    };
    const call = chatCall(step, body);
    const text = 'say' in step ? step.say : 'ask' in step ? step.ask.question : 'ok';
    if (!body.stream) {
      // Unstreamed, as litellm asks for it (mini-swe-agent): tool calls in the message itself.
      const message =
        call && 'name' in call
          ? {
              role: 'assistant',
              content: `Running ${call.name}.`,
              tool_calls: [{ id: ids.next('call'), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } }],
            }
          : { role: 'assistant', content: text };
      const usage =
        toolNames(body).length > 0
          ? { prompt_tokens: 130, completion_tokens: 22, total_tokens: 152 }
          : { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message, finish_reason: 'tool_calls' in message ? 'tool_calls' : 'stop' }],
          usage,
        }),
      );
      return;
    }
    const chunk = (choices: unknown[], extra: object = {}) => sse(res, { ...base, choices, ...extra });
    if (call && 'name' in call) {
      const callId = ids.next('call');
      chunk([
        {
          index: 0,
          delta: {
            role: 'assistant',
            content: null,
            tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: call.name, arguments: '' } }],
          },
          finish_reason: null,
        },
      ]);
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: JSON.stringify(call.args) } }] }, finish_reason: null }]);
      chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]);
    } else {
      chunk([{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }]);
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    }
    chunk([], { usage: { prompt_tokens: 130, completion_tokens: 22, total_tokens: 152 } });
    res.write('data: [DONE]\n\n');
    res.end();
  },
};
