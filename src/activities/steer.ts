import type { SteerInput, SteerOutput } from '../shared/schemas.js';
import type { ActivityContext } from './deps.js';

export function createSteerActivities(deps: ActivityContext) {
  return {
    /** Hands a person's message to the job's agent running on this worker, if it takes input now. */
    async steerAgent(input: SteerInput): Promise<SteerOutput> {
      const delivered = deps.liveRuns.get(input.jobId)?.steer(input.text) ?? false;
      deps.jobLog(input.jobId)({
        source: 'drover',
        type: 'message',
        text: delivered
          ? `steering message written into the running session: ${input.text}`
          : `steering message kept for the agent's next run (the running agent takes no input now): ${input.text}`,
      });
      return { delivered };
    },
  };
}
