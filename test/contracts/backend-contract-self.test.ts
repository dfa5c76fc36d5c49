/**
 * The backend contract can fail: real backends with one defect each, run through the same cases, fail
 * exactly the cases for that defect (and keep passing the rest, so it is the defect that fails, not the
 * harness). The real backends fail exactly their declared known bugs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentBackend, AgentRequest, AgentRun, AgentVerdict } from '../../src/backends/backend.js';
import { type BackendSubject, CASE_NAMES, CASES, type CaseName, failingCases } from './backend.contract.js';
import {
  claudeCodeSubject,
  codexSubject,
  commandSubject,
  miniSweAgentSubject,
  openCodeSubject,
  openHandsSubject,
} from './backend-subjects.js';

/** A run that delegates to the real one, with some of its parts replaced. */
function patchedRun(run: AgentRun, patch: Partial<AgentRun>): AgentRun {
  return {
    invocation: run.invocation,
    read: (stream, line) => run.read(stream, line),
    sessionId: () => run.sessionId(),
    usage: () => run.usage(),
    verdict: (end) => run.verdict(end),
    ...(run.outputFile ? { outputFile: run.outputFile } : {}),
    ...(run.readOutput ? { readOutput: (text: string) => run.readOutput!(text) } : {}),
    ...patch,
    // Read when asked, as the worker does: a backend may know its scope only once the run has ended.
    get usageScope() {
      return 'usageScope' in patch ? patch.usageScope : run.usageScope;
    },
  };
}

/** The subject with its backend's runs changed (and its requests, on the way in). */
function broken(
  base: BackendSubject,
  patch: (run: AgentRun, req: AgentRequest) => Partial<AgentRun>,
  request: (req: AgentRequest) => AgentRequest = (r) => r,
): BackendSubject {
  const real = base.backend;
  const backend: AgentBackend = { ...real, start: (req) => ((run) => patchedRun(run, patch(run, req)))(real.start(request(req))) };
  return { ...base, backend };
}

const verdictMapped = (run: AgentRun, map: (v: AgentVerdict | undefined) => AgentVerdict | undefined) => ({
  verdict: (end: { exitCode: number | null; finished: boolean }) => map(run.verdict(end)),
});

interface Defect {
  what: string;
  subject: () => BackendSubject;
  fails: CaseName[];
}

const DEFECTS: Defect[] = [
  {
    what: 'claude-code forgetting its session id',
    subject: () => broken(claudeCodeSubject(), () => ({ sessionId: () => undefined })),
    fails: ['session: kept across runs as the capabilities say', 'events: first-run transcript', 'crash mid-run'],
  },
  {
    what: 'codex mapping a 429 to AgentFailed',
    subject: () =>
      broken(codexSubject(), (run) =>
        verdictMapped(run, (v) => (v?.outcome === 'failed' && v.type === 'AgentRateLimited' ? { ...v, type: 'AgentFailed' } : v)),
      ),
    fails: ['model error: HTTP 429'],
  },
  {
    what: 'opencode reporting done after a crash',
    subject: () => broken(openCodeSubject(), (run) => verdictMapped(run, (v) => v ?? { outcome: 'done' })),
    fails: ['crash mid-run'],
  },
  {
    what: "command copying the worker's environment into the invocation",
    subject: () =>
      broken(commandSubject(), (run) => ({ invocation: { ...run.invocation, env: { ...process.env, ...run.invocation.env } as never } })),
    fails: ['invocation: the worker secrets stay out of argv'],
  },
  {
    what: "codex counting its thread's running total as this run's usage",
    subject: () => broken(codexSubject(), () => ({ usageScope: 'run' })),
    fails: ['usage: resumed run, as usageScope says'],
  },
  {
    what: 'opencode passing the prompt as an argument too',
    subject: () =>
      broken(openCodeSubject(), (run, req) => ({ invocation: { ...run.invocation, argv: [...run.invocation.argv, req.prompt] } })),
    fails: ['invocation: first run', 'invocation: a prompt too long for one argument', 'invocation: resume'],
  },
  {
    what: 'openhands dropping the session it was asked to resume',
    subject: () =>
      broken(
        openHandsSubject(),
        () => ({}),
        ({ resume: _, ...req }) => req,
      ),
    fails: ['invocation: resume'],
  },
  {
    what: 'claude-code answering its native question as done',
    subject: () => broken(claudeCodeSubject(), (run) => verdictMapped(run, (v) => (v?.outcome === 'question' ? { outcome: 'done' } : v))),
    fails: ['question'],
  },
  {
    what: 'codex dropping the commands the agent ran',
    subject: () =>
      broken(codexSubject(), (run) => ({
        read: (stream, line) => {
          const reading = run.read(stream, line);
          return { ...reading, events: reading.events.filter((e) => e.type !== 'command') };
        },
      })),
    fails: ['events: first-run transcript', 'question'],
  },
  {
    what: 'claude-code throwing on a half-written line',
    subject: () =>
      broken(claudeCodeSubject(), (run) => ({
        read: (stream, line) => {
          if (stream === 'stdout') JSON.parse(line);
          return run.read(stream, line);
        },
      })),
    fails: ['crash mid-run'],
  },
  {
    what: 'mini-swe-agent dropping its trajectory',
    subject: () => broken(miniSweAgentSubject(), () => ({ readOutput: () => undefined })),
    fails: ['events: first-run transcript', 'model error: HTTP 401', 'model error: HTTP 429', 'model error: HTTP 5xx', 'usage: first run'],
  },
];

const sorted = (names: readonly string[]) => [...names].sort();

describe('backend contract self-test', () => {
  for (const d of DEFECTS) {
    it(`${d.what} fails exactly its cases`, () => {
      const subject = d.subject();
      const known = Object.keys(subject.knownBugs ?? {});
      assert.deepEqual(sorted(failingCases(subject)), sorted([...new Set([...d.fails, ...known])]));
    });
  }

  it('every case is failed by some defect: none asserts nothing', () => {
    assert.deepEqual(
      CASES.map((c) => c.name),
      [...CASE_NAMES],
    );
    const caught = new Set(DEFECTS.flatMap((d) => d.fails));
    assert.deepEqual(
      CASE_NAMES.filter((name) => !caught.has(name)),
      [],
    );
  });

  it('the real backends fail exactly their declared known bugs', () => {
    for (const subject of [commandSubject, claudeCodeSubject, codexSubject, openCodeSubject, miniSweAgentSubject, openHandsSubject].map(
      (f) => f(),
    )) {
      assert.deepEqual(sorted(failingCases(subject)), sorted(Object.keys(subject.knownBugs ?? {})), subject.name);
    }
  });
});
