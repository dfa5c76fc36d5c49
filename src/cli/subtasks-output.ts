/** A job's subtasks in `drover status`: an indented tree, each child's phase read from the child itself. */
import type { DroverClient, JobReport } from '../client.js';
import type { SubtaskEntry } from '../shared/schemas.js';

/** Deeper than any tree the limits allow (maxDepth is at most 5). */
const MAX_DEPTH = 6;

export const subtasksOf = (r: JobReport): SubtaskEntry[] => r.status?.subtasks ?? r.result?.subtasks ?? [];

/** The lines to add under the report's, or '' for a job without subtasks. */
export async function renderSubtasks(client: Pick<DroverClient, 'status'>, report: JobReport): Promise<string> {
  const top = subtasksOf(report);
  if (top.length === 0) return '';
  const lines = ['subtasks'];
  await addLines(client, top, 1, lines);
  return `\n${lines.join('\n')}`;
}

async function addLines(client: Pick<DroverClient, 'status'>, entries: SubtaskEntry[], depth: number, lines: string[]): Promise<void> {
  for (const e of entries) {
    const child = await client.status(e.id).catch(() => undefined);
    const pad = '  '.repeat(depth);
    lines.push(`${pad}${e.id}  ${child?.phase ?? e.status}  ${e.branch}  ${e.title}`);
    const question = child?.pendingQuestion;
    if (question) lines.push(`${pad}  question: ${question}`);
    if (child && depth < MAX_DEPTH) await addLines(client, subtasksOf(child), depth + 1, lines);
  }
}
