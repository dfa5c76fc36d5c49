/**
 * The files of one agent run, outside the worktree: the prompt, the latest answer and feedback (written by
 * the worker, read-only for the agent) and `ask/question.json`, the one file the agent writes. Agents that
 * still write `.drover/question.json` in the worktree are read too, without following links.
 */
import { lchownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import type { QA } from '../shared/schemas.js';
import { readNoFollow, removeNoFollow, UnsafeFile, writeNoFollow } from './no-follow.js';

/** The directory agents used before run directories; still read, never written through. */
export const LEGACY_DIR = '.drover';
export const ASK_DIR = 'ask';
/** Where a CLI writes what Drover reads after the run (a trajectory): the agent's to write, like ask/. */
const OUT_DIR = 'out';
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
const QUESTION = 'question.json';
const MAX_QUESTION_BYTES = 64 * 1024;
const QuestionFile = z.object({ question: z.string().trim().min(1).max(4_000) });

/**
 * Makes the run directory. Its files belong to the worker; only `ask/` is handed to the agent's user
 * (`agentUid`, in a container), so the agent cannot replace a file the worker writes with a link.
 */
export function makeRunDir(runDir: string, agentUid: number | undefined): void {
  for (const dir of [ASK_DIR, OUT_DIR]) {
    mkdirSync(join(runDir, dir), { recursive: true, mode: 0o755 });
    if (agentUid !== undefined && process.getuid?.() === 0) lchownSync(join(runDir, dir), agentUid, agentUid);
  }
}

export interface RunInput {
  worktree: string;
  prompt: string;
  revision: number;
  questions: QA[];
  feedback?: string;
}

/** Writes this run's files and returns the DROVER_* variables that point at them. */
export async function writeRunFiles(runDir: string, input: RunInput, fullPrompt: string): Promise<Record<string, string>> {
  try {
    return await writeFiles(runDir, input, fullPrompt);
  } catch (err) {
    if (err instanceof UnsafeFile) throw new AppError('AgentProtocolError', `${err.message}: the run directory was tampered with`);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AppError('WorkspaceLost', `the run directory ${runDir} is gone; the job starts over`);
    throw err;
  }
}

async function writeFiles(runDir: string, input: RunInput, fullPrompt: string): Promise<Record<string, string>> {
  await clearAskFile(runDir, input.worktree, QUESTION);
  const env: Record<string, string> = {
    DROVER_PROMPT_FILE: join(runDir, 'prompt.md'),
    DROVER_QUESTION_FILE: join(runDir, ASK_DIR, QUESTION),
    DROVER_OUTPUT_DIR: join(runDir, OUT_DIR),
    DROVER_WORKTREE: input.worktree,
    DROVER_REVISION: String(input.revision),
  };
  await writeNoFollow(runDir, 'prompt.md', fullPrompt);
  const last = input.questions.at(-1);
  if (last) {
    env.DROVER_ANSWER_FILE = join(runDir, 'answer.md');
    env.DROVER_QUESTION = last.question;
    await writeNoFollow(runDir, 'answer.md', last.answer);
  }
  if (input.feedback) {
    env.DROVER_FEEDBACK_FILE = join(runDir, 'feedback.md');
    await writeNoFollow(runDir, 'feedback.md', input.feedback);
  }
  return env;
}

/**
 * The question the agent left, if any (run directory first, then the legacy place), consumed. A question file
 * that is a link, not a regular file, too big or not {"question": "..."} is the agent's protocol error.
 */
export async function takeQuestion(runDir: string, worktree: string): Promise<string | undefined> {
  const text = await takeAskFile(runDir, worktree, QUESTION, MAX_QUESTION_BYTES, 'question');
  return text === undefined ? undefined : parseQuestion(text);
}

/**
 * The text of a file the agent writes to ask for something (`ask/<name>`, then `.drover/<name>` in the
 * worktree), removed once read so no later run repeats it. Never read through a link, and bounded.
 */
export async function takeAskFile(
  runDir: string,
  worktree: string,
  name: string,
  maxBytes: number,
  what: string,
): Promise<string | undefined> {
  for (const dir of [join(runDir, ASK_DIR), join(worktree, LEGACY_DIR)]) {
    const text = await readNoFollow(dir, name, maxBytes).catch((err: unknown) => {
      if (!(err instanceof UnsafeFile)) throw err;
      // A repository may ship .drover as a link: then it is no place for a request, and is left alone.
      if (err.part === 'dir' && dir.endsWith(LEGACY_DIR)) return undefined;
      throw new AppError('AgentProtocolError', `the ${what} file ${err.path} ${err.why}; write a regular file`);
    });
    if (text === undefined) continue;
    await removeNoFollow(dir, name);
    return text;
  }
  return undefined;
}

/** Removes an ask file an earlier run left, in both places, so a run never repeats another's request. */
export async function clearAskFile(runDir: string, worktree: string, name: string): Promise<void> {
  await removeNoFollow(join(runDir, ASK_DIR), name);
  await removeNoFollow(join(worktree, LEGACY_DIR), name);
}

/** Removes what a CLI left in the output directory, so a run never reads an earlier run's file. */
export async function clearOutput(runDir: string, name: string): Promise<void> {
  await removeNoFollow(join(runDir, OUT_DIR), name);
}

/** A file the CLI wrote in the output directory, or undefined; a link or an oversized file is refused. */
export async function readOutput(runDir: string, name: string): Promise<string | undefined> {
  return readNoFollow(join(runDir, OUT_DIR), name, MAX_OUTPUT_BYTES).catch((err: unknown) => {
    if (err instanceof UnsafeFile) throw new AppError('AgentProtocolError', `the agent's output file ${err.path} ${err.why}`);
    throw err;
  });
}

function parseQuestion(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('AgentProtocolError', 'the question file is not JSON; write {"question": "..."}');
  }
  const parsed = QuestionFile.safeParse(json);
  if (!parsed.success) throw new AppError('AgentProtocolError', 'the question file needs {"question": "..."} (at most 4,000 characters)');
  return parsed.data.question;
}
