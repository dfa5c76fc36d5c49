/**
 * The contract every agent backend keeps, checked against transcripts recorded from its real CLI. A backend
 * only translates: the cases start it with requests as the worker makes them and feed it what the CLI
 * printed, then judge the invocation, the events, the session, the usage and the verdict. Differences
 * between backends come from their capabilities and the subject's declarations, never from a skipped case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentBackend, AgentRequest, AgentRun, AgentVerdict } from '../../src/backends/backend.js';
import type { AgentSpec, AgentUsage } from '../../src/shared/schemas.js';
import { FOLLOW_UP } from './backend-requests.js';
import { cutOff, feed, replay, startOf, unmatchedSteps } from './backend-replay.js';
import type { Transcript } from './transcript.js';
import { invocationCases } from './backend-invocation-cases.js';

export interface Transcripts {
  firstRun: Transcript;
  /** The first run's session continued with FOLLOW_UP; recorded exactly for backends that can resume. */
  resumed?: Transcript;
  /** The scripted model asks "Which greeting should I write?", natively or through the question file. */
  question: Transcript;
  /** The model API answering every call with this status (after the CLI's own retries, if any). */
  errors: Record<401 | 429 | 500, Transcript>;
  /** Killed with SIGKILL while the model had the second request. */
  crash: Transcript;
}

export interface BackendSubject<S extends AgentSpec = AgentSpec> {
  readonly name: string;
  readonly backend: AgentBackend<S>;
  /** A request as the worker makes it, as the transcripts were recorded; overrides on top. */
  request(overrides?: Partial<AgentRequest<S>>): AgentRequest<S>;
  /** Where the CLI takes its message: stdin (plain or wrapped in its protocol) or an argument. */
  readonly promptVia: 'stdin' | 'argv';
  /** false: the output is free text, the verdict is always undefined and the exit code decides. */
  readonly judgesOutput: boolean;
  readonly transcripts: Transcripts;
  /** What each recorded run consumed by the scripted model server's numbers; absent for a CLI that reports none. */
  readonly usage?: { firstRun: AgentUsage; resumedOwn?: AgentUsage };
  /** Cases this backend fails today, and why; each is checked to still fail, so a fix shows. */
  readonly knownBugs?: Partial<Record<CaseName, string>>;
}

export interface ContractCase {
  readonly name: CaseName;
  check(subject: BackendSubject): void;
}

export type CaseName = (typeof CASE_NAMES)[number];
export const CASE_NAMES = [
  'invocation: first run',
  'invocation: the worker secrets stay out of argv',
  'invocation: a prompt too long for one argument',
  'invocation: resume',
  'session: kept across runs as the capabilities say',
  'events: first-run transcript',
  'question',
  'model error: HTTP 401',
  'model error: HTTP 429',
  'model error: HTTP 5xx',
  'usage: first run',
  'usage: resumed run, as usageScope says',
  'crash mid-run',
] as const;

const QUESTION = 'Which greeting should I write?';
const ANSWER = 'Howdy partner';

function sessionCase(s: BackendSubject): void {
  const first = replay(startOf(s), s.transcripts.firstRun);
  if (!s.backend.capabilities.resume) {
    assert.equal(s.transcripts.resumed, undefined, 'a backend that cannot resume has no resumed transcript');
    for (const t of [s.transcripts.firstRun, s.transcripts.crash]) assert.equal(replay(startOf(s), t).run.sessionId(), undefined);
    assert.ok(!first.events.some((e) => e.type === 'session'), 'no session event from a backend without sessions');
    return;
  }
  const resumed = s.transcripts.resumed;
  assert.ok(resumed, 'a backend that can resume has a recorded resumed run');
  const id = first.run.sessionId();
  assert.ok(id, 'the first run reported its session');
  assert.equal(resumed.meta.resume, id, 'the resumed run was recorded continuing the session the backend read');
  assert.equal(replay(startOf(s), resumed, { resume: id, prompt: FOLLOW_UP }).run.sessionId(), id, 'the resumed run is the same session');
}

function eventsCase(s: BackendSubject): void {
  const t = s.transcripts.firstRun;
  const { run, events, finals } = replay(startOf(s), t);
  assert.ok(
    events.some((e) => e.type === 'message' && e.text.trim()),
    'at least one message',
  );
  // The worker closes a conversation's stdin on the final word; without one the CLI would wait forever.
  if (run.invocation.keepStdinOpen) assert.ok(finals > 0, 'a CLI kept talking on stdin is read to a final word');
  assert.deepEqual(unmatchedSteps(t.meta.script, events), [], 'every step of the scripted model shows as an event, in order');
  if (s.backend.capabilities.resume) {
    const id = run.sessionId();
    assert.ok(id, 'the session id');
    assert.ok(
      events.some((e) => e.type === 'session' && e.text.includes(id)),
      'a session event naming it',
    );
  }
  const end = { exitCode: t.meta.exit.code, finished: false };
  if (!s.judgesOutput) {
    assert.equal(run.verdict(end), undefined, 'free-text output leaves the verdict to the exit code');
    assert.equal(t.meta.exit.code, 0, 'which says done');
    return;
  }
  assert.deepEqual(run.verdict(end), { outcome: 'done' });
  // Stopped by the worker for lingering after its final word, the run still succeeded.
  if (finals > 0) assert.deepEqual(run.verdict({ exitCode: null, finished: true }), { outcome: 'done' });
}

function questionCase(s: BackendSubject): void {
  const t = s.transcripts.question;
  const { run, events } = replay(startOf(s), t);
  const v = run.verdict({ exitCode: t.meta.exit.code, finished: false });
  if (s.backend.capabilities.nativeQuestions) {
    assert.equal(v?.outcome, 'question', 'the CLI asked through its own tool');
    assert.match((v as { question: string }).question, new RegExp(QUESTION.replace('?', '\\?')));
    const answering = { resume: 'session-of-the-question', prompt: FOLLOW_UP, nativeAnswer: { question: QUESTION, answer: ANSWER } };
    const again = replay(startOf(s), t, answering);
    assert.ok(
      again.replies.some((r) => r.includes(ANSWER)),
      'the answer reaches the CLI when it asks again',
    );
    assert.ok(!again.run.invocation.stdin.includes(FOLLOW_UP), 'answered through the tool, not as a new message');
    return;
  }
  // The .drover/question.json protocol: the worker reads the file after the run; a native verdict would skip it.
  assert.equal(t.meta.questionFile, QUESTION, 'the recorded run left its question in the file');
  assert.ok(v === undefined || v.outcome === 'done', `the verdict leaves the question to the file, not ${JSON.stringify(v)}`);
  assert.ok(
    events.some((e) => /question/.test(e.text)),
    'the events show the agent writing its question',
  );
}

function modelErrorCase(status: 401 | 429 | 500, type: string) {
  return (s: BackendSubject) => {
    const t = s.transcripts.errors[status];
    const { run } = replay(startOf(s), t);
    const v = run.verdict({ exitCode: t.meta.exit.code, finished: false });
    if (!s.judgesOutput) {
      assert.equal(v, undefined, 'free text is no model API: the exit code decides');
      assert.notEqual(t.meta.exit.code, 0, 'and fails the run');
      return;
    }
    assertFailed(v, type);
    // A CLI that reports the API error and still exits 0 has not done the task.
    assertFailed(run.verdict({ exitCode: 0, finished: false }), type);
  };
}

function assertFailed(v: AgentVerdict | undefined, type: string): void {
  assert.equal(v?.outcome, 'failed', `failed, not ${JSON.stringify(v)}`);
  const failed = v as Extract<AgentVerdict, { outcome: 'failed' }>;
  assert.equal(failed.type, type, failed.message);
  assert.ok(failed.message.trim().length > 0, 'with a message');
}

function usageOf(s: BackendSubject, t: Transcript, overrides: Partial<AgentRequest> = {}): { run: AgentRun; usage?: AgentUsage } {
  const { run } = replay(startOf(s), t, overrides);
  return { run, usage: run.usage() };
}

function firstUsageCase(s: BackendSubject): void {
  const { usage } = usageOf(s, s.transcripts.firstRun);
  if (!s.usage) {
    assert.equal(usage, undefined, 'a CLI that reports no usage has none');
    assert.equal(s.backend.capabilities.costReporting, false, 'nor any cost');
    return;
  }
  assert.deepEqual(usage && rounded(usage), s.usage.firstRun);
  if (!s.backend.capabilities.costReporting) assert.equal(usage?.costUsd, null, 'no cost from a CLI that reports none');
}

/** 'session': the CLI's running total, tokens and cost of the earlier runs included; turns are counted per run either way. */
function resumedUsageCase(s: BackendSubject): void {
  const t = s.transcripts.resumed;
  if (!t || !s.usage) {
    assert.ok(!t || !s.usage?.resumedOwn, 'a resumed transcript comes with what that run consumed');
    assert.equal(s.backend.capabilities.resume && !!s.usage, false, 'a backend that resumes and reports usage has a resumed run to check');
    return;
  }
  const own = s.usage.resumedOwn;
  assert.ok(own, 'what the resumed run itself consumed');
  const { run, usage } = usageOf(s, t, { resume: t.meta.resume!, prompt: FOLLOW_UP });
  const first = s.usage.firstRun;
  const expected =
    (run.usageScope ?? 'run') === 'session'
      ? {
          inputTokens: first.inputTokens + own.inputTokens,
          outputTokens: first.outputTokens + own.outputTokens,
          cachedInputTokens: first.cachedInputTokens + own.cachedInputTokens,
          costUsd: first.costUsd === null && own.costUsd === null ? null : round((first.costUsd ?? 0) + (own.costUsd ?? 0)),
          turns: own.turns,
        }
      : own;
  assert.deepEqual(usage && rounded(usage), expected);
}

const round = (usd: number) => Math.round(usd * 1e9) / 1e9;
/** Costs to the nano-dollar: sums of float prices differ in the last bits. */
const rounded = (u: AgentUsage): AgentUsage => ({ ...u, costUsd: u.costUsd === null ? null : round(u.costUsd) });

function crashCase(s: BackendSubject): void {
  const t = s.transcripts.crash;
  assert.notEqual(t.meta.exit.code, 0, 'the recorded run was killed');
  const runs: [AgentRun, number | null][] = [
    [replay(startOf(s), t).run, t.meta.exit.code],
    [feed(startOf(s)(), cutOff(s.transcripts.firstRun)).run, null],
    [feed(startOf(s)(), cutOff(s.transcripts.firstRun)).run, 137],
  ];
  for (const [run, exitCode] of runs) {
    const v = run.verdict({ exitCode, finished: false });
    assert.ok(v === undefined || v.outcome === 'failed', `a crash is failed or left to the exit code, not ${JSON.stringify(v)}`);
  }
  // The retry resumes the crashed session with the id the heartbeat carried.
  if (s.backend.capabilities.resume) assert.ok(runs[0]![0].sessionId(), 'the session id is known before the crash');
}

export const CASES: readonly ContractCase[] = [
  ...invocationCases(),
  { name: 'session: kept across runs as the capabilities say', check: sessionCase },
  { name: 'events: first-run transcript', check: eventsCase },
  { name: 'question', check: questionCase },
  { name: 'model error: HTTP 401', check: modelErrorCase(401, 'AgentAuthFailed') },
  { name: 'model error: HTTP 429', check: modelErrorCase(429, 'AgentRateLimited') },
  { name: 'model error: HTTP 5xx', check: modelErrorCase(500, 'AgentModelError') },
  { name: 'usage: first run', check: firstUsageCase },
  { name: 'usage: resumed run, as usageScope says', check: resumedUsageCase },
  { name: 'crash mid-run', check: crashCase },
];

/** The names of the cases the subject fails. */
export function failingCases(subject: BackendSubject): CaseName[] {
  return CASES.filter((c) => {
    try {
      c.check(subject);
      return false;
    } catch {
      return true;
    }
  }).map((c) => c.name);
}

/** Registers the contract for one backend with node:test. A known bug is asserted to still fail. */
export function backendContract<S extends AgentSpec>(subject: BackendSubject<S>): void {
  const s = subject as unknown as BackendSubject;
  describe(`backend contract: ${s.name}`, () => {
    for (const c of CASES) {
      const bug = s.knownBugs?.[c.name];
      if (!bug) it(c.name, () => c.check(s));
      else it(`${c.name} (known bug: ${bug})`, () => assert.throws(() => c.check(s), 'it passes now: remove it from knownBugs'));
    }
  });
}
