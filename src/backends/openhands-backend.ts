import type { OpenHandsAgent } from '../shared/schemas.js';
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
 * OpenHands through its SDK: Drover's driver (agents/openhands, in the agent image as `drover-openhands`)
 * runs an agent with the terminal and file-editor tools in the worktree and prints its events as JSON
 * lines. The conversation is persisted in the run's output directory, so an answer, review feedback or a
 * retry after a crash continues it (`--conversation <id>`).
 */
export const openHandsBackend: AgentBackend<OpenHandsAgent> = {
  kind: 'openhands',
  capabilities: { resume: true, nativeQuestions: false, costReporting: true, needsNetwork: true },
  versionArgs: ['--version'],
  start(req) {
    return new OpenHandsRun(req);
  },
};

class OpenHandsRun implements AgentRun {
  readonly invocation;
  /** The SDK's metrics are the persisted conversation's running total. */
  readonly usageScope = 'session' as const;
  private session: string | undefined;
  private total:
    | { inputTokens: number; outputTokens: number; cachedInputTokens: number; costUsd: number | null; turns: number }
    | undefined;
  private failure: { status: number | null; error: string } | undefined;
  private done = false;

  constructor(req: AgentRequest<OpenHandsAgent>) {
    const { settings, agent } = req;
    const model = agent.model ?? settings.model;
    const argv = [
      settings.command,
      '--workspace',
      req.worktree,
      '--persist',
      `${req.droverEnv.DROVER_OUTPUT_DIR}/openhands`,
      ...(model ? ['--model', model] : []),
      ...(agent.maxTurns ? ['--max-iterations', String(agent.maxTurns)] : []),
      ...(req.resume ? ['--conversation', req.resume] : []),
      ...settings.extraArgs,
    ];
    this.invocation = { argv, env: { ...settings.env, ...req.droverEnv }, stdin: req.prompt, keepStdinOpen: false };
  }

  sessionId() {
    return this.session;
  }

  usage() {
    return this.total;
  }

  read(stream: 'stdout' | 'stderr', line: string): LineReading {
    const msg = stream === 'stdout' ? jsonLine(line) : undefined;
    if (!msg) return { events: [] };
    switch (msg.type) {
      case 'session':
        this.session = typeof msg.id === 'string' ? msg.id.slice(0, 200) : undefined;
        return { events: [{ type: 'session', text: `conversation ${this.session}` }] };
      case 'action':
        return { events: [actionEvent(String(msg.tool ?? 'tool'), String(msg.summary ?? ''))] };
      case 'message':
        return { events: [{ type: 'message', text: clip(String(msg.text ?? '')) }] };
      case 'error':
        return { events: [{ type: 'error', text: clip(String(msg.text ?? '')) }] };
      case 'done': {
        const u = msg.usage ?? {};
        this.total = {
          inputTokens: num(u.inputTokens),
          outputTokens: num(u.outputTokens),
          cachedInputTokens: num(u.cachedInputTokens),
          costUsd: typeof u.costUsd === 'number' && u.costUsd > 0 ? u.costUsd : null,
          turns: num(u.turns),
        };
        this.done = true;
        return {
          events: [
            { type: 'usage', text: `${this.total.turns} turns, ${this.total.inputTokens} in / ${this.total.outputTokens} out tokens` },
          ],
          final: true,
        };
      }
      case 'failed':
        this.failure = { status: typeof msg.status === 'number' ? msg.status : null, error: String(msg.error ?? 'failed') };
        return { events: [{ type: 'error', text: clip(this.failure.error) }], final: true };
    }
    return { events: [] };
  }

  verdict() {
    if (this.failure) {
      return {
        outcome: 'failed' as const,
        type: modelFailureType(this.failure.status, this.failure.error),
        // Whole: it is redacted before it is cut (toFailure).
        message: `openhands: ${this.failure.status ? `HTTP ${this.failure.status}: ` : ''}${this.failure.error.slice(0, 8_000)}`,
      };
    }
    return this.done ? { outcome: 'done' as const } : undefined;
  }
}

function actionEvent(tool: string, summary: string): AgentEvent {
  if (tool === 'terminal') return { type: 'command', text: clip(`$ ${summary}`) };
  if (tool === 'file_editor' && /^(create|str_replace|insert|undo_edit) /.test(summary))
    return { type: 'file_change', text: clip(summary) };
  if (tool === 'finish') return { type: 'message', text: clip(summary || 'finished') };
  return { type: 'tool_use', text: clip(`${tool} ${summary}`) };
}
