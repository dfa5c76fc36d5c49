import type { CodexAgent } from '../shared/schemas.js';
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

/**
 * `codex exec --json`: the prompt goes in on stdin, which is then closed (an open stdin makes codex wait for
 * more input forever). A resumed run is `codex exec resume <thread id>` with the same flags.
 */
export const codexBackend: AgentBackend<CodexAgent> = {
  kind: 'codex',
  capabilities: { resume: true, nativeQuestions: false, costReporting: false, needsNetwork: true },
  versionArgs: ['--version'],
  start(req) {
    return new CodexRun(req);
  },
};

class CodexRun implements AgentRun {
  readonly invocation;
  /** turn.completed carries the thread's total so far, also across `exec resume`. */
  readonly usageScope = 'session' as const;
  private thread: string | undefined;
  private usageTotal = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: null, turns: 0 };
  private completed = false;
  private failure: string | undefined;

  constructor(req: AgentRequest<CodexAgent>) {
    const { settings, agent } = req;
    const model = agent.model ?? settings.model;
    const sandbox = settings.bypassSandbox ? ['--dangerously-bypass-approvals-and-sandbox'] : [`--sandbox=${settings.sandbox}`];
    const argv = [
      settings.command,
      'exec',
      '--json',
      '--skip-git-repo-check',
      ...sandbox,
      ...(model ? [`--model=${model}`] : []),
      ...settings.extraArgs,
      ...(req.resume ? ['resume', req.resume] : []),
      '-',
    ];
    this.invocation = { argv, env: { ...settings.env, ...req.droverEnv }, stdin: req.prompt, keepStdinOpen: false };
  }

  sessionId() {
    return this.thread;
  }

  usage() {
    return this.usageTotal.turns > 0 ? { ...this.usageTotal } : undefined;
  }

  read(stream: 'stdout' | 'stderr', line: string): LineReading {
    const msg = stream === 'stdout' ? jsonLine(line) : undefined;
    if (!msg) return { events: stream === 'stderr' && /error/i.test(line) ? [{ type: 'error', text: clip(line) }] : [] };
    switch (msg.type) {
      case 'thread.started':
        this.thread = String(msg.thread_id);
        return { events: [{ type: 'session', text: `thread ${this.thread}` }] };
      case 'item.completed':
        return { events: itemEvents(msg.item ?? {}) };
      case 'turn.completed': {
        const u = msg.usage ?? {};
        this.usageTotal.inputTokens = num(u.input_tokens);
        this.usageTotal.cachedInputTokens = num(u.cached_input_tokens);
        this.usageTotal.outputTokens = num(u.output_tokens) + num(u.reasoning_output_tokens);
        this.usageTotal.turns += 1;
        this.completed = true;
        return { events: [{ type: 'usage', text: `${num(u.input_tokens)} in / ${num(u.output_tokens)} out tokens` }], final: true };
      }
      case 'turn.failed':
        this.failure = String(msg.error?.message ?? 'turn failed');
        return { events: [{ type: 'error', text: clip(this.failure) }], final: true };
      case 'error':
        // Transient ones ("Reconnecting... 1/5") are followed by a retry; only the last one counts.
        this.failure = String(msg.message ?? 'error');
        return { events: [{ type: 'error', text: clip(this.failure) }] };
      default:
        return { events: [] };
    }
  }

  verdict({ exitCode }: { exitCode: number | null; finished: boolean }) {
    if (this.completed && !this.failure) return { outcome: 'done' as const };
    if (this.failure && (!this.completed || exitCode !== 0)) {
      const status = Number(/\b([45]\d\d)\b/.exec(this.failure)?.[1] ?? 0) || null;
      return { outcome: 'failed' as const, type: modelFailureType(status, this.failure), message: `codex: ${clip(this.failure, 300)}` };
    }
    return this.completed ? { outcome: 'done' as const } : undefined;
  }
}

function itemEvents(item: Record<string, any>): AgentEvent[] {
  switch (item.type) {
    case 'agent_message':
      return item.text ? [{ type: 'message', text: clip(item.text) }] : [];
    case 'command_execution':
      return [{ type: 'command', text: clip(`$ ${item.command ?? ''} (exit ${item.exit_code ?? '?'})`) }];
    case 'file_change':
      return (item.changes ?? []).map((c: any) => ({ type: 'file_change' as const, text: `${c.kind ?? 'update'} ${c.path ?? ''}` }));
    case 'mcp_tool_call':
      return [{ type: 'tool_use', text: clip(`${item.server ?? ''}.${item.tool ?? ''} ${JSON.stringify(item.arguments ?? {})}`) }];
    case 'web_search':
      return [{ type: 'tool_use', text: clip(`web search: ${item.query ?? ''}`) }];
    case 'error':
      return [{ type: 'error', text: clip(String(item.message ?? '')) }];
    default:
      return [];
  }
}
