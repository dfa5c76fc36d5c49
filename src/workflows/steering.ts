/**
 * Steering messages: a person's guidance for a running job (signal `message`). A message reaches the agent
 * at its next opportunity: into the live session of a CLI that takes input while it runs (Claude Code's
 * stream-json), or else in the prompt of the agent's next run.
 */
import { condition, isCancellation, log, setHandler } from '@temporalio/workflow';
import { LIVE_INPUT_AGENTS, MESSAGES_MAX, messageText } from '../shared/message.js';
import type { JobInput, RunAgentInput, Workspace } from '../shared/schemas.js';
import { hostActivities } from './activity-proxies.js';
import { messageSignal } from './definitions.js';
import type { JobState } from './job-state.js';

export function listenForMessages(state: JobState): void {
  setHandler(messageSignal, (payload) => {
    const message = messageText(payload);
    if ('problem' in message) return log.warn('ignored an invalid message', { error: message.problem });
    if (state.messages.length >= MESSAGES_MAX) return log.warn(`ignored a message: the job keeps at most ${MESSAGES_MAX}`);
    state.messages.push({ text: message.text, at: new Date().toISOString(), delivered: null });
    state.announce();
  });
}

/** Messages written into the session that the CLI never took (its run ended first): for the next run after all. */
export function takeBack(state: JobState, unconfirmed: string[] | undefined): void {
  for (const text of unconfirmed ?? []) {
    const m = state.messages.find((x) => x.delivered !== null && x.text === text);
    if (m) m.delivered = null;
  }
}

export const hasUndelivered = (state: JobState): boolean => state.messages.some((m) => m.delivered === null);

/**
 * The run's share of the messages: every one so far (a fresh CLI remembers none of them) and how many are
 * new. The new ones count as delivered once the run is scheduled with them.
 */
export function messagesForRun(state: JobState): Pick<RunAgentInput, 'messages' | 'newMessages'> {
  if (state.messages.length === 0) return {};
  const fresh = state.messages.filter((m) => m.delivered === null);
  for (const m of fresh) m.delivered = 'prompt';
  return { messages: state.messages.map((m) => m.text), newMessages: fresh.length };
}

/**
 * While the agent runs, hands each message that arrives to its live session, on the worker running it.
 * A message the run cannot take (its CLI reads no input while it runs, or has already given its result)
 * stays undelivered, for the next run. Ends once `running()` turns false and nothing is in flight.
 */
export async function deliverWhileRunning(job: JobInput, state: JobState, ws: Workspace, running: () => boolean): Promise<void> {
  if (!LIVE_INPUT_AGENTS.has(job.agent.kind)) return;
  const tried = new Set<number>();
  const next = () => state.messages.findIndex((m, i) => m.delivered === null && !tried.has(i));
  for (;;) {
    await condition(() => !running() || next() >= 0);
    const i = next();
    if (!running() || i < 0) return;
    tried.add(i);
    const message = state.messages[i];
    if (!message) return;
    // Short, and never the job's failure: a delivery that does not happen leaves the message for the next run.
    const acts = hostActivities(job, ws.hostQueue, 'steering message to the live session', {
      scheduleToStartTimeout: '10s',
      startToCloseTimeout: '30s',
      retry: { maximumAttempts: 2 },
    });
    try {
      const out = await acts.steerAgent({ jobId: job.id, text: message.text });
      if (out.delivered && message.delivered === null) message.delivered = 'live';
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('a steering message was not delivered live; the next run gets it', { error: String(err) });
    }
    state.announce();
  }
}
