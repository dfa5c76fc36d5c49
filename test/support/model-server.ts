/**
 * A scripted model server on 127.0.0.1: the one stand-in in the integration tests. The real agent CLIs talk
 * to it as they would to their providers (Anthropic Messages, OpenAI Responses, Chat Completions, all
 * streamed), and each test gives it the turns the model should take. Requests that carry tools are the
 * agent's main loop and take the next step of the script; side requests (titles, quota checks) get a short
 * text and take nothing.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicApi } from './model-api-anthropic.js';
import { chatCompletionsApi, responsesApi } from './model-api-openai.js';

/** A step, or a function of the request that decides it (a scripted model that reads what it is told). */
export type ScriptStep = Step | ((req: RecordedRequest) => Step);

export type Step =
  /** A plain assistant message; the agent's turn ends. */
  | { say: string }
  /** Create (or overwrite) a file, relative to the agent's working directory. */
  | { write: { path: string; content: string } }
  /** Run a shell command through the agent's command tool. */
  | { run: string }
  /** Ask the human through the agent's native question tool. */
  | { ask: { question: string; options?: string[] } }
  /** Accept the request and never answer it: the agent hangs waiting for the model. */
  | { stall: true }
  /** Answer with an HTTP error of the provider's own shape. */
  | { fail: 401 | 429 | 500 };

export interface RecordedRequest {
  api: 'anthropic' | 'responses' | 'chat';
  path: string;
  main: boolean;
  /** The step this request took, when it was a main one. */
  step?: Step;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** What each provider dialect supplies: how to tell a main request, and how to speak a step in its wire format. */
export interface ModelApi {
  readonly name: RecordedRequest['api'];
  matches(path: string): boolean;
  isMain(body: any): boolean;
  /** Working directory the agent reports in its prompt, for tools that want absolute paths. */
  respond(step: Exclude<Step, { stall: true }>, body: any, res: ServerResponse, ids: IdSource): void;
  /** Anything the API needs besides the main endpoint (count_tokens, models list...). */
  extra?(path: string, body: any, res: ServerResponse): boolean;
}

export interface IdSource {
  next(prefix: string): string;
}

export interface ModelServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replaces what is left of the script. */
  script(steps: ScriptStep[]): void;
  /** Steps not yet taken. */
  remaining(): number;
  close(): Promise<void>;
}

/** Once the script is used up, every main request gets this. */
const DONE: Step = { say: 'Done.' };

export async function startModelServer(steps: ScriptStep[] = []): Promise<ModelServer> {
  let queue = [...steps];
  const requests: RecordedRequest[] = [];
  const apis: ModelApi[] = [anthropicApi, responsesApi, chatCompletionsApi];
  let counter = 0;
  const ids: IdSource = { next: (prefix) => `${prefix}_${(++counter).toString().padStart(6, '0')}` };
  const stalled = new Set<ServerResponse>();

  const server: Server = createServer(async (req, res) => {
    const body = await readJson(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const api = apis.find((a) => a.matches(path));
    if (!api) {
      if (apis.some((a) => a.extra?.(path, body, res))) return;
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no such endpoint ${path}` } }));
      return;
    }
    const main = api.isMain(body);
    const recorded: RecordedRequest = { api: api.name, path, main, headers: req.headers, body };
    const next = main ? (queue.shift() ?? DONE) : { say: 'ok' };
    const step = typeof next === 'function' ? next(recorded) : next;
    if (main) recorded.step = step;
    requests.push(recorded);
    if ('stall' in step) {
      stalled.add(res);
      res.on('close', () => stalled.delete(res));
      return;
    }
    api.respond(step, body, res, ids);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(next) {
      queue = [...next];
    },
    remaining: () => queue.length,
    async close() {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

/** All the text of a request (prompts, tool results), for scripts and assertions that look for what the agent was told. */
export function requestText(req: RecordedRequest): string {
  return JSON.stringify(req.body);
}

/** Writes one server-sent event. */
export function sse(res: ServerResponse, data: unknown, event?: string): void {
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** Finds the working directory an agent announces in its system prompt, for tools that need absolute paths. */
export function workingDirectoryIn(body: unknown): string | undefined {
  const m = /(?:Working directory|Current working directory|cwd)(?: is)?[:\s]+(\/[^\s<"'\\\])]+)/i.exec(JSON.stringify(body));
  // A sentence may end right after the path.
  return m?.[1]?.replace(/[.,;:]+$/, '');
}

export function absolutePath(body: unknown, path: string): string {
  if (path.startsWith('/')) return path;
  const cwd = workingDirectoryIn(body);
  return cwd ? `${cwd.replace(/\/$/, '')}/${path}` : path;
}
