/**
 * Drover's metrics from the workflow, through the SDK's workflow meter. Metrics are neither commands nor events,
 * and the SDK drops them while it replays, so they change no history, need no patched(), and a job replayed on
 * another worker is not counted twice. The SDK adds namespace, task_queue and workflowType; Drover's labels
 * are only bounded ones (agent kind, phase, status), never a job id, a repository or text.
 *
 * Questions are a pair of counters rather than a gauge: the workflow meter has no up-down counter, a gauge
 * set by one job would overwrite another's, and a +1 in one worker's process with the -1 in another's (the
 * job moved while it waited) makes no per-worker gauge right. Waiting now:
 * asked - answered - unanswered (a wait that ended without an answer: timeout, cancellation).
 */
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import { TERMINAL_PHASES } from '../shared/phases.js';
import type { AgentUsage, JobPhase } from '../shared/schemas.js';

export const JOB_DURATION = 'drover_job_duration_seconds';
export const PHASE_DURATION = 'drover_phase_duration_seconds';
export const AGENT_COST = 'drover_agent_cost_usd';

const SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400];
/** The exporter's buckets for these histograms: the SDK's default ones stop at 10 (seconds or dollars). */
export const JOB_METRIC_BUCKETS: Readonly<Record<string, number[]>> = {
  [JOB_DURATION]: SECONDS,
  [PHASE_DURATION]: SECONDS,
  [AGENT_COST]: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50],
};

// Made per call: instruments may be created only in a workflow's context, not when the bundle loads.
const meterFor = (agent: string) => metricMeter.withTags({ agent });

export function jobStarted(agent: string): void {
  meterFor(agent).createCounter('drover_jobs_started', '', 'jobs that started (their input was valid)').add(1);
}

/** `status` is the job's outcome: succeeded, no_changes, failed or cancelled. */
export function jobFinished(agent: string, status: string): void {
  const meter = meterFor(agent);
  meter.createCounter('drover_jobs_finished', '', 'jobs that ended, by outcome').add(1, { status });
  const seconds = (Date.now() - workflowInfo().startTime.getTime()) / 1000; // workflow time
  meter.createHistogram(JOB_DURATION, 'float', 's', 'workflow start to end').record(Math.max(0, seconds), { status });
}

/** One move between phases (JobState.enter); `questionOpen` says whether the pending question is still unanswered. */
export function phaseChanged(agent: string, from: JobPhase, to: JobPhase, elapsedMs: number, questionOpen: boolean): void {
  const meter = meterFor(agent);
  // Time after the outcome is known is cleanup's, counted as cleaning_up.
  if (!TERMINAL_PHASES.has(from)) {
    meter
      .createHistogram(PHASE_DURATION, 'float', 's', 'time in one visit of a phase')
      .record(Math.max(0, elapsedMs) / 1000, { phase: from });
  }
  if (from === to) return;
  if (to === 'waiting_for_human') meter.createCounter('drover_questions_asked', '', 'questions put to a person').add(1);
  if (from === 'waiting_for_human') {
    const [name, help] = questionOpen
      ? ['drover_questions_unanswered', 'waits for an answer that ended without one']
      : ['drover_questions_answered', 'questions a person answered'];
    meter.createCounter(name, '', help).add(1);
  }
}

/**
 * One agent run's usage, as the job's result counts it. Here rather than in the activity: only the workflow
 * knows a session-total CLI's (Codex, OpenHands) earlier report, and the activity would count it again.
 */
export function agentUsed(agent: string, usage: AgentUsage): void {
  const meter = meterFor(agent);
  const tokens = meter.createCounter('drover_agent_tokens', '', 'model tokens the agent used');
  if (usage.inputTokens > 0) tokens.add(usage.inputTokens, { kind: 'input' });
  if (usage.outputTokens > 0) tokens.add(usage.outputTokens, { kind: 'output' });
  // SDK counters are integers (a float is truncated): a histogram's _sum keeps the dollars' fractions.
  if (usage.costUsd !== null)
    meter.createHistogram(AGENT_COST, 'float', 'USD', 'model cost of one agent run').record(Math.max(0, usage.costUsd));
}
