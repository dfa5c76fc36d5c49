/** Feeding recorded transcripts through a backend, and the small judgements the contract cases share. */
import type { AgentEvent, AgentInvocation, AgentRequest, AgentRun } from '../../src/backends/backend.js';
import type { Step } from '../support/model-server.js';
import type { BackendSubject } from './backend.contract.js';
import type { Transcript, TranscriptLine } from './transcript.js';

export interface Replayed {
  run: AgentRun;
  events: AgentEvent[];
  replies: string[];
  /** How many readings said the CLI had given its final word. */
  finals: number;
}

/** Reads the lines as the worker does, then hands over the output file the CLI left, if any. */
export function feed(run: AgentRun, lines: readonly TranscriptLine[], output?: string): Replayed {
  const replayed: Replayed = { run, events: [], replies: [], finals: 0 };
  for (const { stream, line } of lines) {
    const reading = run.read(stream, line);
    replayed.events.push(...reading.events);
    replayed.replies.push(...(reading.replies ?? []));
    if (reading.final) replayed.finals++;
  }
  if (output !== undefined && run.outputFile && run.readOutput) run.readOutput(output);
  return replayed;
}

/** Starts the subject's backend with its request, overrides on top. */
export const startOf =
  (s: BackendSubject) =>
  (overrides: Partial<AgentRequest> = {}): AgentRun =>
    s.backend.start(s.request(overrides));

export function replay(start: (req?: Partial<AgentRequest>) => AgentRun, t: Transcript, overrides: Partial<AgentRequest> = {}) {
  return feed(start(overrides), t.lines, t.output);
}

/** The transcript cut part-way, the next line cut in half: what a worker reads from a CLI killed mid-line. */
export function cutOff(t: Transcript): TranscriptLine[] {
  const at = Math.floor(t.lines.length / 2);
  const next = t.lines[at];
  const half = next ? [{ stream: next.stream, line: next.line.slice(0, Math.ceil(next.line.length / 2)) }] : [];
  return [...t.lines.slice(0, at), ...half];
}

/** Everything the backend hands the runtime besides the environment: where a prompt or a secret would show. */
export const argvText = (inv: AgentInvocation) => inv.argv.join('\n');

/** The invocation names the session: as an argument of its own or as the value of a --flag=. */
export const namesSession = (inv: AgentInvocation, id: string) => inv.argv.some((a) => a === id || a.endsWith(`=${id}`));

const ACTIONS = { write: ['file_change', 'command', 'tool_use'], run: ['command', 'tool_use'] } as const;

/**
 * The scripted model's steps that the events must show, in order: a write names its file, a command its
 * text, a plain message is a message. Returns the steps no event matched.
 */
export function unmatchedSteps(script: readonly Step[], events: readonly AgentEvent[]): Step[] {
  const missing: Step[] = [];
  let from = 0;
  for (const step of script) {
    const found = events.findIndex((e, i) => i >= from && matches(step, e));
    if (found < 0) {
      if (!('fail' in step || 'stall' in step || 'ask' in step)) missing.push(step);
      continue;
    }
    from = found + 1;
  }
  return missing;
}

function matches(step: Step, e: AgentEvent): boolean {
  if ('write' in step) return (ACTIONS.write as readonly string[]).includes(e.type) && e.text.includes(step.write.path);
  if ('run' in step) return (ACTIONS.run as readonly string[]).includes(e.type) && e.text.includes(step.run);
  if ('say' in step) return e.type === 'message';
  return false;
}
