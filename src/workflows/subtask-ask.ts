/**
 * A subtask's question goes to its parent's agent first: a short run of the parent's backend, in the child's
 * worktree, with the parent's prompt, the child's task and the question. A person is asked only when that
 * run gives no answer, or when the job says so (`subtasks.askHuman`).
 */
import { isCancellation, log } from '@temporalio/workflow';
import type { JobInput, Workspace } from '../shared/schemas.js';
import { answererPrompt, limitsOf } from '../shared/subtasks.js';
import { agentOptions, hostActivities } from './activity-proxies.js';
import type { JobState } from './job-state.js';
import { agentUsed } from './job-metrics.js';

/** Whether the job's questions go to its parent's agent. */
export const asksParent = (job: JobInput): boolean => job.subtaskOf !== undefined && !limitsOf(job).askHuman;

/** Gets the question answered, by the parent's agent or else a person; it joins the job's questions. */
export async function askParent(
  job: JobInput,
  state: JobState,
  ws: Workspace,
  question: string,
  askPerson: (job: JobInput, state: JobState, question: string) => Promise<string>,
): Promise<void> {
  const of = job.subtaskOf;
  if (!of) {
    await askPerson(job, state, question);
    return;
  }
  try {
    const summary = `ask the parent's agent (${of.parentAgent.kind}): ${question.slice(0, 100)}`;
    const out = await hostActivities(job, ws.hostQueue, summary, agentOptions(job)).runAgent({
      jobId: job.id,
      worktree: ws.worktree,
      ...(ws.runtime ? { runtime: ws.runtime } : {}),
      agent: of.parentAgent,
      prompt: answererPrompt(of.parentPrompt, { title: of.title, prompt: job.prompt }, question),
      revision: state.revision,
      questions: [],
      timeouts: job.timeouts,
      answerer: true,
    });
    if (out.usage) {
      agentUsed(of.parentAgent.kind, out.usage);
      state.addSpent(out.usage);
    }
    if (out.answer) {
      state.questions.push({ question, answer: out.answer });
      return;
    }
    log.warn("the parent's agent gave no answer; asking a person", { question });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn("the parent's agent could not answer; asking a person", { error: String(err) });
  }
  await askPerson(job, state, question);
}
