/**
 * The subtasks file: `ask/subtasks.json` in the run directory ($DROVER_SUBTASKS_FILE), or the legacy
 * `.drover/subtasks.json` in the worktree, read like the question file: never through a link, bounded, and
 * validated. A malformed one is the agent's protocol error.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { type SubtaskRequest, SubtaskRequests } from '../shared/schemas.js';
import { readNoFollow, removeNoFollow, UnsafeFile } from './no-follow.js';
import { clearOutput, LEGACY_DIR, readOutput } from './run-files.js';

const ASK_DIR = 'ask';
const SUBTASKS = 'subtasks.json';
const MAX_SUBTASKS_BYTES = 256 * 1024;

/** The variable that tells the agent where to write it. */
export const subtasksEnv = (runDir: string): Record<string, string> => ({ DROVER_SUBTASKS_FILE: join(runDir, ASK_DIR, SUBTASKS) });

/** Removes a file an earlier run left, so a run never repeats another's request. */
export async function clearSubtasks(runDir: string, worktree: string): Promise<void> {
  await removeNoFollow(join(runDir, ASK_DIR), SUBTASKS);
  await removeNoFollow(join(worktree, LEGACY_DIR), SUBTASKS);
}

/** The subtasks the agent asked for, if it did (run directory first), consumed. */
export async function takeSubtasks(runDir: string, worktree: string): Promise<SubtaskRequest[] | undefined> {
  for (const dir of [join(runDir, ASK_DIR), join(worktree, LEGACY_DIR)]) {
    const text = await readNoFollow(dir, SUBTASKS, MAX_SUBTASKS_BYTES).catch((err: unknown) => {
      if (!(err instanceof UnsafeFile)) throw err;
      // A repository may ship .drover as a link: then it is no place for a request, and is left alone.
      if (err.part === 'dir' && dir.endsWith(LEGACY_DIR)) return undefined;
      throw new AppError('AgentProtocolError', `the subtasks file ${err.path} ${err.why}; write a regular file`);
    });
    if (text === undefined) continue;
    await removeNoFollow(dir, SUBTASKS);
    return parseSubtasks(text);
  }
  return undefined;
}

export function parseSubtasks(text: string): SubtaskRequest[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('AgentProtocolError', 'the subtasks file is not JSON; write [{"title": "...", "prompt": "..."}]');
  }
  const parsed = SubtaskRequests.safeParse(json);
  if (!parsed.success) {
    throw new AppError(
      'AgentProtocolError',
      `the subtasks file needs [{"title", "prompt", "agent"?, "validate"?}] (1-20 entries): ${z.prettifyError(parsed.error).slice(0, 500)}`,
    );
  }
  return parsed.data;
}

const ANSWER = 'answer.md';
const MAX_ANSWER = 4_000;

/** Clears what an earlier run left (a request, an answerer's answer) and returns the variables for this run. */
export async function prepareSubtaskFiles(runDir: string, worktree: string): Promise<Record<string, string>> {
  await clearSubtasks(runDir, worktree);
  await clearOutput(runDir, ANSWER);
  return subtasksEnv(runDir);
}

/** An answerer run's answer: what it wrote to out/answer.md, or else its last message. */
export async function answerOf(runDir: string, lastEvent: string | null): Promise<string | undefined> {
  const text = (await readOutput(runDir, ANSWER))?.trim() || lastEvent?.trim();
  return text ? text.slice(0, MAX_ANSWER) : undefined;
}

/** The prompt with Drover's note on the agent's last request, for a run that starts with the whole prompt. */
export function withNote(prompt: string, note: string | undefined): string {
  return note ? `${prompt.trimEnd()}\n\n## Your subtasks\n\n${note}\n` : prompt;
}
