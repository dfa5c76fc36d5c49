/** Whether a job can still take a steering message, decided before it is sent: refused ones exit 2 at the edge. */
import { AppError } from '../shared/errors.js';
import { MESSAGES_MAX } from '../shared/message.js';
import { TERMINAL_PHASES } from '../shared/phases.js';
import type { JobStatusView } from '../shared/schemas.js';

/** Phases after the agent's last run: a message sent now would reach no agent. */
const PAST_THE_AGENT = new Set(['committing', 'cleaning_up', 'integrated']);

export function refuseMessage(
  jobId: string,
  report: { execution: string; phase: string; attempts?: unknown; status?: JobStatusView },
): void {
  if (report.execution !== 'RUNNING')
    throw new AppError('InvalidInput', `job ${jobId} has already ended (${report.execution.toLowerCase()})`);
  if (report.attempts) throw new AppError('InvalidInput', `job ${jobId} runs as attempts: message one of them (${jobId}.1)`);
  const phase = report.status?.phase ?? report.phase;
  if (PAST_THE_AGENT.has(phase) || TERMINAL_PHASES.has(phase)) {
    throw new AppError('InvalidInput', `job ${jobId} is ${phase}: its agent has finished, and no run would get the message`);
  }
  if ((report.status?.messages?.length ?? 0) >= MESSAGES_MAX) {
    throw new AppError('InvalidInput', `job ${jobId} has its ${MESSAGES_MAX} messages already`);
  }
}
