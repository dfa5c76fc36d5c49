import type { OpenCodeAgent } from '../shared/schemas.js';
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
 * `opencode run --format json`. Without --auto (worker setting autoApprove) OpenCode rejects every permission
 * request itself, so a run never waits on a prompt nobody sees. A resumed run passes `--session <id>`.
 */
export const openCodeBackend: AgentBackend<OpenCodeAgent> = {
  kind: 'opencode',
  capabilities: { resume: true, nativeQuestions: false, costReporting: true, needsNetwork: true },
  versionArgs: ['--version'],
  start(req) {
    return new OpenCodeRun(req);
  },
};

class OpenCodeRun implements AgentRun {
  readonly invocation;
  private session: string | undefined;
  private usageTotal = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 as number | null, turns: 0 };
  private failure: { status: number | null; message: string } | undefined;
  private finished = false;

  constructor(req: AgentRequest<OpenCodeAgent>) {
    const { settings, agent } = req;
    const model = agent.model ?? settings.model;
    const argv = [
      settings.command,
      'run',
      '--format=json',
      ...(model ? [`--model=${model}`] : []),
      ...(settings.autoApprove ? ['--auto'] : []),
      ...(req.resume ? [`--session=${req.resume}`] : []),
      ...settings.extraArgs,
    ];
    // The message goes in on stdin (closed afterwards), so a long prompt never meets the argument size limit.
    this.invocation = { argv, env: { ...settings.env, ...req.droverEnv }, stdin: req.prompt, keepStdinOpen: false };
  }

  sessionId() {
    return this.session;
  }

  usage() {
    return this.usageTotal.turns > 0 ? { ...this.usageTotal } : undefined;
  }

  read(stream: 'stdout' | 'stderr', line: string): LineReading {
    const msg = stream === 'stdout' ? jsonLine(line) : undefined;
    if (!msg) return { events: [] };
    const first = !this.session && typeof msg.sessionID === 'string';
    if (first) this.session = msg.sessionID;
    const events: AgentEvent[] = first ? [{ type: 'session', text: `session ${this.session}` }] : [];
    const part = msg.part ?? {};
    switch (msg.type) {
      case 'text':
        if (part.text?.trim()) events.push({ type: 'message', text: clip(part.text) });
        break;
      case 'tool_use':
        events.push(toolEvent(part));
        break;
      case 'step_finish': {
        const t = part.tokens ?? {};
        this.usageTotal.inputTokens += num(t.input) + num(t.cache?.read) + num(t.cache?.write);
        this.usageTotal.cachedInputTokens += num(t.cache?.read);
        this.usageTotal.outputTokens += num(t.output) + num(t.reasoning);
        this.usageTotal.costUsd = (this.usageTotal.costUsd ?? 0) + (typeof part.cost === 'number' ? part.cost : 0);
        this.usageTotal.turns += 1;
        // A step that ends for any reason but more tool calls is the run's last word.
        if (part.reason && part.reason !== 'tool-calls') {
          this.finished = true;
          events.push({
            type: 'usage',
            text: `${this.usageTotal.turns} steps, ${this.usageTotal.inputTokens} in / ${this.usageTotal.outputTokens} out tokens`,
          });
          return { events, final: true };
        }
        break;
      }
      case 'error': {
        const data = msg.error?.data ?? {};
        const message = String(data.message ?? msg.error?.name ?? 'error');
        this.failure = { status: typeof data.statusCode === 'number' ? data.statusCode : null, message };
        events.push({ type: 'error', text: clip(`${msg.error?.name ?? 'error'}: ${message}`) });
        return { events, final: true };
      }
    }
    return { events };
  }

  verdict() {
    if (this.failure) {
      return {
        outcome: 'failed' as const,
        type: modelFailureType(this.failure.status, this.failure.message),
        message: `opencode: ${this.failure.status ? `HTTP ${this.failure.status}: ` : ''}${clip(this.failure.message, 300)}`,
      };
    }
    return this.finished ? { outcome: 'done' as const } : undefined;
  }
}

function toolEvent(part: Record<string, any>): AgentEvent {
  const tool = String(part.tool ?? 'tool');
  const state = part.state ?? {};
  const input = state.input ?? {};
  if (state.status === 'error') return { type: 'error', text: clip(`${tool} failed: ${state.error ?? ''}`) };
  if (['write', 'edit', 'patch', 'multiedit'].includes(tool))
    return { type: 'file_change', text: `${tool} ${input.filePath ?? state.title ?? ''}` };
  if (tool === 'bash') return { type: 'command', text: clip(`$ ${input.command ?? ''}`) };
  return { type: 'tool_use', text: clip(`${tool} ${state.title ?? JSON.stringify(input)}`) };
}
