/**
 * Records the transcripts the backend contract replays (test/fixtures/transcripts):
 * `node --import tsx test/support/record-transcripts.ts [backend...]`. Each real CLI runs once per scenario
 * against the scripted model server, started by the host runtime from the backend's own invocation, with
 * Drover's replies on stdin as the worker sends them; what it printed is kept line by line, with the temp
 * paths, homes, port and key scrubbed into placeholders. OpenHands runs in the agent image (Docker).
 */
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { clearOutput, makeRunDir, readOutput, takeQuestion, writeRunFiles } from '../../src/activities/run-files.js';
import type { AgentInvocation, AgentRun } from '../../src/backends/backend.js';
import { backendOfKind } from '../../src/backends/registry.js';
import { createHostRuntime } from '../../src/runtimes/host-runtime.js';
import { TAG_ENV, taggedPids } from '../../src/runtimes/process-tags.js';
import { AGENT_KINDS, type AgentKind } from '../../src/shared/schemas.js';
import { FOLLOW_UP, PROMPT, REQUESTS } from '../contracts/backend-requests.js';
import { saveTranscript, TRANSCRIPTS_DIR, type Scenario, type Transcript, type TranscriptLine } from '../contracts/transcript.js';
import { agentWorkerEnv } from './agent-env.js';
import { makeRepo, REPO_ROOT, tempDir } from './harness.js';
import { type ModelServer, startModelServer, type Step } from './model-server.js';
import { targetFor, type Dirs, type Target } from './record-targets.js';

export const API_KEY = 'sk-drover-recording-0123456789abcdef';

interface Plan {
  scenario: Scenario;
  script: Step[];
  prompt?: string;
  /** Killed with SIGKILL once the model stalls: a crash mid-run. */
  crash?: boolean;
}

const fails = (status: 401 | 429 | 500): Step[] => Array.from({ length: 8 }, () => ({ fail: status }));

function plans(t: Target): Plan[] {
  // A command that talks to no model: its scenarios are its own scripts (record-targets), the crash its own kill.
  if (t.modelFree)
    return plans({ ...t, modelFree: false }).map((p) => ({ scenario: p.scenario, script: p.scenario.startsWith('error') ? p.script : [] }));
  return [
    {
      scenario: 'first-run',
      script: [{ write: { path: 'greeting.txt', content: 'Hello\n' } }, { run: 'cat greeting.txt' }, { say: 'Wrote it.' }],
    },
    ...(backendOfKind(t.kind).capabilities.resume
      ? [{ scenario: 'resumed' as const, prompt: FOLLOW_UP, script: [{ run: 'echo Goodbye >> greeting.txt' }, { say: 'Added it.' }] }]
      : []),
    { scenario: 'question', script: t.question },
    { scenario: 'error-401', script: fails(401) },
    { scenario: 'error-429', script: fails(429) },
    { scenario: 'error-500', script: fails(500) },
    { scenario: 'crash', script: [{ run: 'echo working > progress.txt' }, { stall: true }], crash: true },
  ];
}

/** A worktree as the worker prepares one (a repository with .drover/), and a run directory beside it. */
function newDirs(made: string[]): Dirs {
  const worktree = makeRepo();
  mkdirSync(join(worktree, '.drover'));
  const runDir = tempDir('drover-run-');
  makeRunDir(runDir, undefined);
  made.push(worktree, runDir);
  return { worktree, runDir };
}

/** Temp paths, homes, the port and the key, as placeholders: nothing of this machine or this run in a fixture. */
function scrubber(dirs: Dirs, home: string, model: ModelServer): (text: string) => string {
  const port = new URL(model.url).port;
  const pairs: [string, string][] = [
    [dirs.worktree, '<WORKTREE>'],
    // Claude Code names its project directory after the working directory, slashes as dashes.
    [dirs.worktree.replace(/[^A-Za-z0-9]/g, '-'), '<WORKTREE_SLUG>'],
    [dirs.runDir, '<RUN_DIR>'],
    [home, '<HOME>'],
    [REPO_ROOT, '<REPO>'],
    [homedir(), '<USER_HOME>'],
    [tmpdir(), '<TMP>'],
    [API_KEY, '<API_KEY>'],
    [`127.0.0.1:${port}`, '127.0.0.1:<PORT>'],
    [`localhost:${port}`, 'localhost:<PORT>'],
  ];
  pairs.sort((a, b) => b[0].length - a[0].length);
  return (text) => pairs.reduce((s, [from, to]) => s.split(from).join(to), text);
}

/** Opened up for the image's non-root user when the CLI runs in a container. */
function shareWithAgentUser(dir: string): void {
  chmodSync(dir, 0o777);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) shareWithAgentUser(path);
    else chmodSync(path, 0o666);
  }
}

interface Ran {
  lines: TranscriptLine[];
  exit: { code: number | null; signal: string | null };
}

/** Runs the invocation the way the worker does: replies on stdin, stdin closed and the CLI stopped after its final word. */
async function execute(t: Target, run: AgentRun, spec: { argv: string[]; env: Record<string, string> }, dirs: Dirs, crash?: Crash) {
  const inv: AgentInvocation = run.invocation;
  const lines: TranscriptLine[] = [];
  const tag = `drover-record:${Date.now()}`;
  let linger: NodeJS.Timeout | undefined;
  let recordLine: (stream: 'stdout' | 'stderr', line: string) => void = () => undefined;
  const ended = new AbortController();
  const crashing = crash?.(ended.signal)
    .then((stalled) => (stalled ? (t.kill?.() ?? killTagged(tag)) : undefined))
    // The run may have ended on its own in the meantime: nothing left to kill.
    .catch(() => undefined);
  const result = await createHostRuntime().exec({
    argv: spec.argv,
    cwd: dirs.worktree,
    env: spec.env,
    stdin: inv.stdin,
    keepStdinOpen: inv.keepStdinOpen,
    idleTimeoutMs: 180_000,
    hardTimeoutMs: 600_000,
    tag,
    onStart: (io) => {
      recordLine = (stream, line) => {
        lines.push({ stream, line });
        const reading = run.read(stream, line);
        for (const reply of reading.replies ?? []) io.write(reply);
        if (reading.final && !linger) {
          io.closeStdin();
          linger = setTimeout(() => io.finish(), 5_000);
        }
      };
    },
    onLine: (stream, line) => recordLine(stream, line),
  });
  clearTimeout(linger);
  ended.abort();
  await crashing;
  return { lines, exit: { code: result.exitCode, signal: result.signal } } satisfies Ran;
}

async function killTagged(tag: string): Promise<void> {
  for (const pid of await taggedPids(TAG_ENV, tag)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

type Crash = (ended: AbortSignal) => Promise<boolean>;

/** Waits until the model server holds the stalled request and the CLI had a moment to print; false when the run ended first. */
function whenStalled(model: ModelServer, plan: Plan, from: number): Crash | undefined {
  if (!plan.crash) return undefined;
  const needed = plan.script.filter((s) => !('stall' in s)).length + 1;
  return async (ended) => {
    while (!ended.aborted && model.requests.slice(from).filter((r) => r.main).length < needed) await delay(100);
    await delay(1_500);
    return !ended.aborted;
  };
}

interface Context {
  target: Target;
  model: ModelServer;
  workerEnv: Record<string, string>;
  cli: string;
}

/** The contract's request for this backend, with the real CLI, this run's directories and DROVER_* variables. */
async function requestFor(target: Target, plan: Plan, dirs: Dirs, prompt: string, resume?: string) {
  const droverEnv = await writeRunFiles(dirs.runDir, { worktree: dirs.worktree, prompt, revision: 0, questions: [] }, prompt);
  const base = REQUESTS[target.kind]();
  return {
    ...base,
    ...(target.agentFor ? { agent: target.agentFor(plan.scenario) } : {}),
    settings: { ...base.settings, ...target.settings },
    prompt,
    worktree: dirs.worktree,
    droverEnv,
    ...(resume ? { resume } : {}),
  };
}

async function record(ctx: Context, plan: Plan, dirs: Dirs, resume?: string): Promise<{ transcript: Transcript; session?: string }> {
  const { target, model } = ctx;
  const prompt = plan.prompt ?? PROMPT;
  model.script(plan.script);
  const from = model.requests.length;
  const run = backendOfKind(target.kind).start((await requestFor(target, plan, dirs, prompt, resume)) as never);
  if (run.outputFile) await clearOutput(dirs.runDir, run.outputFile);
  if (target.inContainer) for (const d of [dirs.worktree, dirs.runDir]) shareWithAgentUser(d);
  const spec = target.wrap
    ? target.wrap(run.invocation, dirs, model)
    : { argv: run.invocation.argv, env: { ...process.env, ...ctx.workerEnv, ...run.invocation.env } as Record<string, string> };
  const ran = await execute(target, run, spec, dirs, whenStalled(model, plan, from));
  const output = run.outputFile ? await readOutput(dirs.runDir, run.outputFile) : undefined;
  const question = await takeQuestion(dirs.runDir, dirs.worktree).catch((err: Error) => `unreadable: ${err.message}`);
  const made = model.requests.slice(from);
  const scrub = scrubber(dirs, ctx.workerEnv.HOME!, model);
  const transcript: Transcript = {
    meta: {
      backend: target.kind,
      scenario: plan.scenario,
      cli: ctx.cli,
      argv: run.invocation.argv.map(scrub),
      prompt: scrub(prompt),
      ...(resume ? { resume } : {}),
      script: made.filter((r) => r.main && r.step).map((r) => r.step!),
      modelCalls: { main: made.filter((r) => r.main).length, side: made.filter((r) => !r.main).length },
      exit: ran.exit,
      ...(question ? { questionFile: scrub(question) } : {}),
    },
    lines: ran.lines.map((l) => ({ stream: l.stream, line: scrub(l.line) })),
    ...(output === undefined ? {} : { output: scrub(output) }),
  };
  const session = run.sessionId();
  return { transcript, ...(session ? { session } : {}) };
}

async function recordBackend(kind: AgentKind): Promise<void> {
  const model = await startModelServer();
  const made: string[] = [];
  try {
    const target = await targetFor(kind, model, API_KEY);
    if (!target) {
      console.log(`${kind}: the CLI is not available here; nothing recorded`);
      return;
    }
    const workerEnv = { ...agentWorkerEnv(model, API_KEY), ...target.env };
    made.push(workerEnv.HOME!);
    const ctx: Context = { target, model, workerEnv, cli: target.version(workerEnv) };
    mkdirSync(join(TRANSCRIPTS_DIR, kind), { recursive: true });
    let first: { dirs: Dirs; session?: string } | undefined;
    for (const plan of plans(target)) {
      const resumed = plan.scenario === 'resumed';
      if (resumed && !first?.session) throw new Error(`${kind}: the first run reported no session to resume`);
      // The resumed run continues the first in its worktree: CLIs file their sessions under the working directory.
      const dirs = resumed ? first!.dirs : newDirs(made);
      const { transcript, session } = await record(ctx, plan, dirs, resumed ? first!.session : undefined);
      if (plan.scenario === 'first-run') first = { dirs, ...(session ? { session } : {}) };
      saveTranscript(transcript);
      const m = transcript.meta;
      console.log(
        `${kind}/${plan.scenario}: ${transcript.lines.length} lines, exit ${m.exit.code ?? m.exit.signal}, ${m.modelCalls.main} model calls`,
      );
    }
  } finally {
    await model.close();
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2) as AgentKind[];
for (const kind of wanted.length ? wanted : AGENT_KINDS) {
  if (!AGENT_KINDS.includes(kind)) throw new Error(`unknown backend ${kind}; one of ${AGENT_KINDS.join(', ')}`);
  await recordBackend(kind);
}
