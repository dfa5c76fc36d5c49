import type { MiniSweAgent } from '../shared/schemas.js';
import {
  clip,
  modelFailureType,
  num,
  type AgentBackend,
  type AgentEvent,
  type AgentRequest,
  type AgentRun,
  type LineReading,
} from './backend.js';

const TRAJECTORY = 'mini-trajectory.json';
/** Longest task, in bytes, given on the command line (Linux caps one argument at 128 KiB); beyond it, a pointer to the file. */
const MAX_TASK_ARG = 100_000;

/**
 * mini-swe-agent's `mini` CLI, headless: `-y` (no confirmations), `--exit-immediately` (no prompt after the
 * submit command), the trajectory written to the run's output directory. Progress is read from what it
 * prints (a header per step, each command in a fence); usage and the exit status from the trajectory.
 * It keeps no session a later run could continue, so questions and retries start afresh with the answers
 * and a handoff note in the task.
 */
export const miniSweAgentBackend: AgentBackend<MiniSweAgent> = {
  kind: 'mini-swe-agent',
  capabilities: { resume: false, nativeQuestions: false, costReporting: true, needsNetwork: true },
  // `mini` has no --version; its help names the version ("This is mini-swe-agent version 2.4.6.").
  versionArgs: ['--help'],
  start(req) {
    return new MiniRun(req);
  },
};

class MiniRun implements AgentRun {
  readonly invocation;
  readonly outputFile = TRAJECTORY;
  private step = 0;
  /** Whose message is being printed: commands are read from the model's own messages only. */
  private speaker: 'model' | 'other' = 'other';
  private inFence = false;
  private fence: string[] = [];
  private traj: { status: string; detail: string; usage?: ReturnType<typeof usageOf> } | undefined;

  constructor(req: AgentRequest<MiniSweAgent>) {
    const { settings, agent } = req;
    const model = agent.model ?? settings.model;
    const task =
      Buffer.byteLength(req.prompt) > MAX_TASK_ARG
        ? `Your task is in the file ${req.droverEnv.DROVER_PROMPT_FILE}. Read it first.`
        : req.prompt;
    const argv = [
      settings.command,
      '--yolo',
      '--exit-immediately',
      '--output',
      `${req.droverEnv.DROVER_OUTPUT_DIR}/${TRAJECTORY}`,
      ...(model ? ['--model', model] : []),
      // No -c: mini looks a config name up in its working directory (the repository's) before its own.
      ...settings.extraArgs,
      '--task',
      task,
    ];
    const env = {
      // No first-run wizard, no price-list download, no failure on a model without a known price.
      MSWEA_CONFIGURED: 'true',
      MSWEA_SILENT_STARTUP: '1',
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      MSWEA_COST_TRACKING: 'ignore_errors',
      // No retries of mini's own: Drover's retry policy (with backoff) decides. The OpenAI client inside litellm
      // still retries a 429 or 5xx twice (recorded: test/fixtures/transcripts/mini-swe-agent/error-429.jsonl).
      MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT: '1',
      PAGER: 'cat',
      // The cap on model calls of one run (maxTurns), without a config file.
      ...(agent.maxTurns ? { MSWEA_GLOBAL_CALL_LIMIT: String(agent.maxTurns) } : {}),
      ...settings.env,
      ...req.droverEnv,
    };
    this.invocation = { argv, env, stdin: '', keepStdinOpen: false };
  }

  sessionId() {
    return undefined;
  }

  usage() {
    return this.traj?.usage;
  }

  read(stream: 'stdout' | 'stderr', line: string): LineReading {
    if (stream !== 'stdout') return { events: [] };
    const header = /^mini-swe-agent \(step (\d+), \$([\d.]+)\):/.exec(line);
    if (header) {
      this.step = Number(header[1]);
      this.speaker = 'model';
      this.inFence = false;
      return { events: [{ type: 'message', text: `step ${this.step}` }] };
    }
    if (/^(System|User|Tool|Exit|Assistant):\s*$/.test(line.trim())) {
      this.speaker = 'other';
      this.inFence = false;
      return { events: [] };
    }
    if (this.speaker !== 'model') return { events: [] };
    if (line.trim().startsWith('```')) {
      this.inFence = !this.inFence;
      if (this.inFence) {
        this.fence = [];
        return { events: [] };
      }
      const command = this.fence.join('\n');
      if (/COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT/.test(command)) return { events: [{ type: 'message', text: 'submitted' }] };
      return { events: command.trim() ? [{ type: 'command', text: clip(`$ ${command}`) } satisfies AgentEvent] : [] };
    }
    if (this.inFence) this.fence.push(line);
    return { events: [] };
  }

  /** The trajectory: its exit status and, summed over the model's replies, the usage. */
  readOutput(text: string): void {
    try {
      const t = JSON.parse(text);
      const last = Array.isArray(t?.messages) ? t.messages.at(-1) : undefined;
      this.traj = { status: String(t?.info?.exit_status ?? ''), detail: String(last?.extra?.exception_str ?? ''), usage: usageOf(t) };
    } catch {
      this.traj = { status: '', detail: '' };
    }
  }

  verdict(end: { exitCode: number | null }) {
    const status = this.traj?.status ?? '';
    if (status === 'Submitted') return { outcome: 'done' as const };
    if (!status)
      return end.exitCode === 0
        ? undefined
        : {
            outcome: 'failed' as const,
            type: 'AgentFailed' as const,
            message: `mini exited with ${end.exitCode} before its trajectory said how the run ended`,
          };
    const limited = /LimitsExceeded|TimeExceeded/.test(status) || /limit exceeded/i.test(this.traj?.detail ?? '');
    if (limited)
      return {
        outcome: 'failed' as const,
        type: 'AgentFailed' as const,
        message: `mini-swe-agent stopped: ${status} (step or cost limit)`,
      };
    const detail = this.traj?.detail ?? '';
    const http = /\b(40[0-9]|429|5\d\d)\b/.exec(detail)?.[1];
    return {
      outcome: 'failed' as const,
      type: modelFailureType(http ? Number(http) : null, `${status} ${detail}`),
      // Whole: it is redacted before it is cut (toFailure).
      message: `mini-swe-agent ended with ${status}${detail ? `: ${detail.slice(0, 8_000)}` : ''}`,
    };
  }
}

function usageOf(t: any) {
  const replies = (Array.isArray(t?.messages) ? t.messages : []).filter((m: any) => m?.role === 'assistant');
  const usages = replies.map((m: any) => m?.extra?.response?.usage ?? {});
  const cost = Number(t?.info?.model_stats?.instance_cost ?? 0);
  return {
    inputTokens: usages.reduce((s: number, u: any) => s + num(u.prompt_tokens), 0),
    outputTokens: usages.reduce((s: number, u: any) => s + num(u.completion_tokens), 0),
    cachedInputTokens: usages.reduce((s: number, u: any) => s + num(u.prompt_tokens_details?.cached_tokens), 0),
    // An unknown model's price is not tracked (0): that is no cost, not a free run.
    costUsd: cost > 0 ? cost : null,
    turns: num(t?.info?.model_stats?.api_calls) || replies.length,
  };
}
