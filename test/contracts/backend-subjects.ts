/**
 * The backends the contract runs over: each one's requests, its recorded transcripts, and what those runs
 * consumed, worked out from the scripted model server's fixed usage per call (test/support/model-api-*.ts)
 * and the calls each transcript's meta counts.
 */
import type { AgentBackend } from '../../src/backends/backend.js';
import { backendOfKind } from '../../src/backends/registry.js';
import type { AgentKind, AgentSpec, AgentUsage } from '../../src/shared/schemas.js';
import type { BackendSubject, Transcripts } from './backend.contract.js';
import { REQUESTS } from './backend-requests.js';
import { loadTranscript, type Scenario, type Transcript } from './transcript.js';

export function transcriptsOf(kind: AgentKind): Transcripts {
  const need = (scenario: Scenario): Transcript => {
    const t = loadTranscript(kind, scenario);
    if (!t) throw new Error(`no ${scenario} transcript for ${kind}: node --import tsx test/support/record-transcripts.ts ${kind}`);
    return t;
  };
  const resumed = loadTranscript(kind, 'resumed');
  return {
    firstRun: need('first-run'),
    ...(resumed ? { resumed } : {}),
    question: need('question'),
    errors: { 401: need('error-401'), 429: need('error-429'), 500: need('error-500') },
    crash: need('crash'),
  };
}

type PerCall = Omit<AgentUsage, 'turns'>;
/** The scripted server's usage of one main call, per dialect, with the price the CLI puts on it. */
const ANTHROPIC: PerCall = { inputTokens: 120, outputTokens: 30, cachedInputTokens: 0, costUsd: 0.00081 }; // claude-sonnet-4-5 list price
const RESPONSES: PerCall = { inputTokens: 150, outputTokens: 25, cachedInputTokens: 10, costUsd: null };
const CHAT: PerCall = { inputTokens: 130, outputTokens: 22, cachedInputTokens: 0, costUsd: null };

/** The usage of the transcript's main model calls, and the turns as that CLI counts them. */
function consumed(t: Transcript | undefined, per: PerCall, turns: (calls: number) => number, cost = per.costUsd): AgentUsage {
  const n = t?.meta.modelCalls.main ?? 0;
  return {
    inputTokens: n * per.inputTokens,
    outputTokens: n * per.outputTokens,
    cachedInputTokens: n * per.cachedInputTokens,
    costUsd: cost === null ? null : Math.round(n * cost * 1e9) / 1e9,
    turns: turns(n),
  };
}

const perCall = (n: number) => n;

function subject<K extends AgentKind>(
  kind: K,
  rest: Omit<BackendSubject<Extract<AgentSpec, { kind: K }>>, 'name' | 'backend' | 'request' | 'transcripts'>,
): BackendSubject {
  return {
    name: kind,
    backend: backendOfKind(kind) as AgentBackend,
    request: REQUESTS[kind] as BackendSubject['request'],
    transcripts: transcriptsOf(kind),
    ...rest,
  } as BackendSubject;
}

export function commandSubject(): BackendSubject {
  return subject('command', { promptVia: 'stdin', judgesOutput: false });
}

export function claudeCodeSubject(): BackendSubject {
  const t = transcriptsOf('claude-code');
  return subject('claude-code', {
    promptVia: 'stdin',
    judgesOutput: true,
    usage: { firstRun: consumed(t.firstRun, ANTHROPIC, perCall), resumedOwn: consumed(t.resumed, ANTHROPIC, perCall) },
  });
}

export function codexSubject(): BackendSubject {
  const t = transcriptsOf('codex');
  // Codex counts a turn per `codex exec` (one user turn), not per model call; it reports no cost.
  const oneTurn = () => 1;
  return subject('codex', {
    promptVia: 'stdin',
    judgesOutput: true,
    usage: { firstRun: consumed(t.firstRun, RESPONSES, oneTurn), resumedOwn: consumed(t.resumed, RESPONSES, oneTurn) },
  });
}

export function openCodeSubject(): BackendSubject {
  const t = transcriptsOf('opencode');
  // OpenCode prices a model it has no price for at 0: a cost of 0, not an unknown one.
  return subject('opencode', {
    promptVia: 'stdin',
    judgesOutput: true,
    usage: { firstRun: consumed(t.firstRun, CHAT, perCall, 0), resumedOwn: consumed(t.resumed, CHAT, perCall, 0) },
  });
}

export function miniSweAgentSubject(): BackendSubject {
  const t = transcriptsOf('mini-swe-agent');
  return subject('mini-swe-agent', { promptVia: 'argv', judgesOutput: true, usage: { firstRun: consumed(t.firstRun, CHAT, perCall) } });
}

export function openHandsSubject(): BackendSubject {
  const t = transcriptsOf('openhands');
  return subject('openhands', {
    promptVia: 'stdin',
    judgesOutput: true,
    usage: { firstRun: consumed(t.firstRun, CHAT, perCall), resumedOwn: consumed(t.resumed, CHAT, perCall) },
  });
}
