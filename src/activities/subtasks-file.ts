/**
 * The subtasks file: `ask/subtasks.json` in the run directory ($DROVER_SUBTASKS_FILE), or the legacy
 * `.drover/subtasks.json` in the worktree, read like the question file: never through a link, bounded, and
 * validated. A malformed one is the agent's protocol error.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { type SubtaskRequest, SubtaskRequests } from '../shared/schemas.js';
import { ASK_DIR, clearAskFile, clearOutput, readOutput, takeAskFile } from './run-files.js';

const SUBTASKS = 'subtasks.json';
const MAX_SUBTASKS_BYTES = 256 * 1024;

/** The variable that tells the agent where to write it. */
export const subtasksEnv = (runDir: string): Record<string, string> => ({ DROVER_SUBTASKS_FILE: join(runDir, ASK_DIR, SUBTASKS) });

/** Removes a file an earlier run left, so a run never repeats another's request. */
export function clearSubtasks(runDir: string, worktree: string): Promise<void> {
  return clearAskFile(runDir, worktree, SUBTASKS);
}

/** The subtasks the agent asked for, if it did (run directory first), consumed. */
export async function takeSubtasks(runDir: string, worktree: string): Promise<SubtaskRequest[] | undefined> {
  const text = await takeAskFile(runDir, worktree, SUBTASKS, MAX_SUBTASKS_BYTES, 'subtasks');
  return text === undefined ? undefined : parseSubtasks(text);
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
