import type { ClaudeCodeAgent } from '../shared/schemas.js';
import {
  clip,
  jsonLine,
  modelFailureType,
  num,
  type AgentBackend,
  type AgentEvent,
  type AgentRequest,
  type AgentRun,
  type LineReading,
} from './backend.js';
import { ClaudeLiveSession, userLine } from './claude-code-live.js';

const ASK_TOOL = 'AskUserQuestion';
const ASK_HOOK = 'drover-ask';

interface AskInput {
  questions?: { question?: string; options?: { label?: string }[] }[];
}

/**
 * Claude Code in its bidirectional stream-json mode. Drover answers the CLI's control requests: a PreToolUse
 * hook on AskUserQuestion defers the tool (the run ends with the question pending in the session) and, when
 * the session is resumed with the person's answer, allows it with the answer filled in. Permission requests
 * are answered by the worker's policy, because nobody is at a terminal.
 */
export const claudeCodeBackend: AgentBackend<ClaudeCodeAgent> = {
  kind: 'claude-code',
  capabilities: { resume: true, nativeQuestions: true, costReporting: true, needsNetwork: true },
  versionArgs: ['--version'],
  start(req) {
    return new ClaudeRun(req);
  },
};

class ClaudeRun implements AgentRun {
  readonly invocation;
  private session: string | undefined;
  private result: Record<string, any> | undefined;
  private question: string | undefined;
  private answerGiven = false;
  private readonly live = new ClaudeLiveSession();

  constructor(private readonly req: AgentRequest<ClaudeCodeAgent>) {
    const { settings, agent } = req;
    const model = agent.model ?? settings.model;
    const argv = [
      settings.command,
      '-p',
      '--output-format=stream-json',
      '--verbose',
      '--input-format=stream-json',
      // The CLI echoes each user message it takes: how Drover knows a steering message reached the session.
      '--replay-user-messages',
      '--permission-prompt-tool=stdio',
      `--permission-mode=${settings.permissionMode}`,
      ...(model ? [`--model=${model}`] : []),
      ...(agent.maxTurns ? [`--max-turns=${agent.maxTurns}`] : []),
      ...(settings.allowedTools.length ? [`--allowedTools=${settings.allowedTools.join(',')}`] : []),
      ...(req.resume ? [`--resume=${req.resume}`] : []),
      ...settings.extraArgs,
    ];
    const lines: (object | string)[] = [
      control('init', { subtype: 'initialize', hooks: { PreToolUse: [{ matcher: `^${ASK_TOOL}$`, hookCallbackIds: [ASK_HOOK] }] } }),
    ];
    // Resuming to answer a deferred question needs no new message: the CLI re-runs the pending tool call.
    if (!req.nativeAnswer) {
      lines.push(req.prompt);
    }
    this.invocation = {
      argv,
      env: { ...settings.env, ...req.droverEnv },
      stdin: lines.map((l) => (typeof l === 'string' ? userLine(l) : `${JSON.stringify(l)}\n`)).join(''),
      keepStdinOpen: true,
    };
  }

  sessionId() {
    return this.session;
  }

  steer(text: string) {
    return this.live.steer(text);
  }

  liveUsage() {
    return this.live.usage();
  }

  unconfirmed() {
    return this.live.unconfirmed();
  }

  /**
   * After --resume, total_cost_usd and modelUsage are the session's running totals while `usage` is this run's
   * alone (recorded: test/fixtures/transcripts/claude-code/resumed.jsonl). Reporting the session's figures, all
   * of one kind, lets the workflow take the difference; turns stay this run's, as for every backend.
   */
  get usageScope(): 'run' | 'session' {
    return this.result && sessionModels(this.result) ? 'session' : 'run';
  }

  usage() {
    const r = this.result;
    if (!r) return undefined;
    const models = sessionModels(r);
    const u = models ? sumModelUsage(models) : perRunUsage(r.usage ?? {});
    return { ...u, costUsd: typeof r.total_cost_usd === 'number' ? r.total_cost_usd : null, turns: num(r.num_turns) };
  }

  read(stream: 'stdout' | 'stderr', line: string): LineReading {
    const msg = stream === 'stdout' ? jsonLine(line) : undefined;
    if (!msg) return { events: line.trim() ? [{ type: stream === 'stderr' ? 'error' : 'message', text: clip(line) }] : [] };
    if (typeof msg.session_id === 'string' && msg.session_id) this.session = msg.session_id;
    switch (msg.type) {
      case 'system':
        return {
          events: msg.subtype === 'init' ? [{ type: 'session', text: `session ${msg.session_id} (${msg.model ?? 'default model'})` }] : [],
        };
      case 'assistant':
        this.live.counted(msg);
        return { events: assistantEvents(msg) };
      case 'user': {
        const taken = this.live.replayed(msg);
        if (taken.length === 0) return { events: toolErrors(msg) };
        return { events: taken.map((t) => ({ type: 'message' as const, text: clip(`took the message: ${t}`) })), delivered: taken };
      }
      case 'control_request':
        return this.control(msg);
      case 'result':
        this.result = msg;
        return { events: this.resultEvents(msg), final: this.live.resultIsFinal() };
      default:
        return { events: [] };
    }
  }

  verdict({ finished }: { exitCode: number | null; finished: boolean }) {
    const r = this.result;
    if (!r) return undefined;
    if (r.stop_reason === 'tool_deferred' && this.question) return { outcome: 'question' as const, question: this.question };
    if (r.is_error || r.subtype !== 'success') {
      const text = typeof r.result === 'string' ? r.result : (r.errors ?? []).join('; ');
      const type = r.subtype === 'success' ? modelFailureType(r.api_error_status, text) : 'AgentFailed';
      return {
        outcome: 'failed' as const,
        type,
        message: `claude: ${r.subtype}${r.api_error_status ? ` (HTTP ${r.api_error_status})` : ''}: ${clip(text, 300)}`,
      };
    }
    void finished; // a CLI stopped after its result still succeeded
    return { outcome: 'done' as const };
  }

  private control(msg: Record<string, any>): LineReading {
    const request = msg.request ?? {};
    const reply = (response: unknown) => [
      `${JSON.stringify({ type: 'control_response', response: { subtype: 'success', request_id: msg.request_id, response } })}\n`,
    ];
    if (request.subtype === 'hook_callback' && request.callback_id === ASK_HOOK) {
      const input: AskInput = request.input?.tool_input ?? {};
      const question = questionText(input);
      const answer = this.req.nativeAnswer;
      if (answer && !this.answerGiven) {
        this.answerGiven = true;
        const answers = Object.fromEntries((input.questions ?? []).map((q) => [q.question ?? '', answer.answer]));
        return {
          events: [{ type: 'message', text: clip(`answered: ${answer.answer}`) }],
          replies: reply({
            hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow', updatedInput: { ...input, answers } },
          }),
        };
      }
      this.question = question;
      return {
        events: [{ type: 'question', text: clip(question) }],
        replies: reply({
          hookSpecificOutput: {
            hookEventName: 'PreToolUse',
            permissionDecision: 'defer',
            permissionDecisionReason: 'Drover asks a person and resumes this session with the answer',
          },
        }),
      };
    }
    if (request.subtype === 'can_use_tool') {
      const tool = String(request.tool_name ?? 'tool');
      if (this.req.settings.onPermissionRequest === 'allow') {
        return {
          events: [{ type: 'tool_use', text: `allowed ${tool}` }],
          replies: reply({ behavior: 'allow', updatedInput: request.input ?? {} }),
        };
      }
      return {
        events: [{ type: 'error', text: `denied ${tool}: not in claude-code.allowedTools of this worker` }],
        replies: reply({
          behavior: 'deny',
          message: `${tool} is not allowed on this Drover worker (claude-code.allowedTools); do without it.`,
        }),
      };
    }
    return {
      events: [],
      replies: [
        `${JSON.stringify({ type: 'control_response', response: { subtype: 'error', request_id: msg.request_id, error: `unsupported request ${request.subtype}` } })}\n`,
      ],
    };
  }

  private resultEvents(r: Record<string, any>): AgentEvent[] {
    const u = this.usage();
    const events: AgentEvent[] = [];
    if (r.is_error) events.push({ type: 'error', text: clip(String(r.result ?? r.subtype)) });
    if (u)
      events.push({
        type: 'usage',
        text: `${u.turns} turns, ${u.inputTokens} in / ${u.outputTokens} out tokens${u.costUsd === null ? '' : `, $${u.costUsd.toFixed(4)}`}`,
      });
    return events;
  }
}

function control(id: string, request: unknown) {
  return { type: 'control_request', request_id: id, request };
}

function assistantEvents(msg: Record<string, any>): AgentEvent[] {
  const events: AgentEvent[] = [];
  for (const block of msg.message?.content ?? []) {
    if (block.type === 'text' && block.text?.trim()) events.push({ type: 'message', text: clip(block.text) });
    if (block.type === 'tool_use') events.push(toolEvent(block.name, block.input ?? {}));
  }
  if (msg.error) events.push({ type: 'error', text: `model error: ${msg.error}` });
  return events;
}

function toolEvent(name: string, input: Record<string, any>): AgentEvent {
  if (['Write', 'Edit', 'MultiEdit', 'NotebookEdit'].includes(name))
    return { type: 'file_change', text: `${name} ${input.file_path ?? input.notebook_path ?? ''}` };
  if (name === 'Bash') return { type: 'command', text: clip(`$ ${input.command ?? ''}`) };
  if (name === ASK_TOOL) return { type: 'question', text: clip(questionText(input)) };
  return { type: 'tool_use', text: clip(`${name} ${JSON.stringify(input)}`) };
}

function toolErrors(msg: Record<string, any>): AgentEvent[] {
  const content = msg.message?.content;
  if (!Array.isArray(content)) return [];
  return content
    .filter((b: any) => b.type === 'tool_result' && b.is_error)
    .map((b: any) => ({
      type: 'error' as const,
      text: clip(`tool failed: ${typeof b.content === 'string' ? b.content : JSON.stringify(b.content)}`),
    }));
}

function questionText(input: AskInput): string {
  const lines = (input.questions ?? []).map((q) => {
    const options = (q.options ?? []).map((o) => o.label).filter(Boolean);
    return `${q.question ?? ''}${options.length ? ` (options: ${options.join(' | ')})` : ''}`;
  });
  return lines.join('\n').trim() || 'The agent asked a question without text.';
}

type TokenCounts = { inputTokens: number; outputTokens: number; cachedInputTokens: number };

/** The result's per-model running totals of the session, when the CLI gives them. */
function sessionModels(result: Record<string, any>): Record<string, any>[] | undefined {
  const m = result.modelUsage;
  return m && typeof m === 'object' && !Array.isArray(m) && Object.keys(m).length ? Object.values(m) : undefined;
}

function sumModelUsage(models: Record<string, any>[]): TokenCounts {
  let inputTokens = 0;
  let outputTokens = 0;
  let cachedInputTokens = 0;
  for (const m of models) {
    const cached = num(m?.cacheReadInputTokens);
    inputTokens += num(m?.inputTokens) + num(m?.cacheCreationInputTokens) + cached;
    outputTokens += num(m?.outputTokens);
    cachedInputTokens += cached;
  }
  return { inputTokens, outputTokens, cachedInputTokens };
}

function perRunUsage(u: Record<string, any>): TokenCounts {
  const cached = num(u.cache_read_input_tokens);
  return {
    inputTokens: num(u.input_tokens) + num(u.cache_creation_input_tokens) + cached,
    outputTokens: num(u.output_tokens),
    cachedInputTokens: cached,
  };
}
