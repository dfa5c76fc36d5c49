/**
 * Recorded transcripts: what a real agent CLI printed in one scenario, line by line, as the worker read it.
 * One JSON object a line: first `{"meta": ...}`, then `{"stdout": line}` / `{"stderr": line}` in the order the
 * worker saw them, and last, for CLIs that leave a file in the output directory, `{"output": text}`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { AgentKind } from '../../src/shared/schemas.js';
import type { Step } from '../support/model-server.js';

export const TRANSCRIPTS_DIR = new URL('../fixtures/transcripts/', import.meta.url).pathname;

export const SCENARIOS = ['first-run', 'resumed', 'question', 'error-401', 'error-429', 'error-500', 'crash'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface TranscriptMeta {
  backend: AgentKind;
  scenario: Scenario;
  /** What the CLI said its version was. */
  cli: string;
  /** The invocation that was run, scrubbed. */
  argv: string[];
  prompt: string;
  /** The session the run continued. */
  resume?: string;
  /** The scripted model's steps, in order (none for a command that talks to no model). */
  script: Step[];
  /** Requests the scripted model server got: main-loop ones (with tools) and side ones (titles, checks). */
  modelCalls: { main: number; side: number };
  exit: { code: number | null; signal: string | null };
  /** What the run left in the question file, when it asked that way. */
  questionFile?: string;
}

export interface TranscriptLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface Transcript {
  meta: TranscriptMeta;
  lines: TranscriptLine[];
  /** The content of the backend's outputFile after the run, when it wrote one. */
  output?: string;
}

export function transcriptPath(kind: AgentKind, scenario: Scenario): string {
  return `${TRANSCRIPTS_DIR}${kind}/${scenario}.jsonl`;
}

export function parseTranscript(text: string): Transcript {
  const entries = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const head = entries.shift();
  if (!head?.meta) throw new Error('a transcript starts with its {"meta": ...} line');
  const t: Transcript = { meta: head.meta as TranscriptMeta, lines: [] };
  for (const e of entries) {
    if (typeof e.stdout === 'string') t.lines.push({ stream: 'stdout', line: e.stdout });
    else if (typeof e.stderr === 'string') t.lines.push({ stream: 'stderr', line: e.stderr });
    else if (typeof e.output === 'string') t.output = e.output;
    else throw new Error(`unknown transcript entry ${JSON.stringify(e).slice(0, 80)}`);
  }
  return t;
}

export function formatTranscript(t: Transcript): string {
  const entries = [
    { meta: t.meta },
    ...t.lines.map((l) => ({ [l.stream]: l.line })),
    ...(t.output === undefined ? [] : [{ output: t.output }]),
  ];
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** The transcript of a scenario, or undefined when none was recorded for this backend. */
export function loadTranscript(kind: AgentKind, scenario: Scenario): Transcript | undefined {
  try {
    return parseTranscript(readFileSync(transcriptPath(kind, scenario), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function saveTranscript(t: Transcript): void {
  writeFileSync(transcriptPath(t.meta.backend, t.meta.scenario), formatTranscript(t));
}
