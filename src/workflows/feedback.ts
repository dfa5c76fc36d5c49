/** What the agent (and a person) is told when checks fail: bounded, so it fits in a prompt and in history. */
import type { ValidationCheck, ValidationRound } from '../shared/schemas.js';

const FEEDBACK_LIMIT = 6_000;

export function setupFailure(step: ValidationCheck): string {
  const how = step.timedOut ? 'timed out' : `exit ${step.exitCode ?? 'none'}`;
  const tail = step.outputTail.trim().split('\n').slice(-15).join('\n');
  return `setup step "${step.name}" failed (${how}); the agent did not run${tail ? `:\n${tail}` : ''}`;
}

export function validationFeedback(failed: ValidationRound['checks']): string {
  const parts = failed.map(
    (c) => `### ${c.name} failed (exit ${c.exitCode ?? 'none'}${c.timedOut ? ', timed out' : ''})\n\n${c.outputTail}`,
  );
  const text = `The validation steps failed. Fix the problems below.\n\n${parts.join('\n\n')}`;
  return text.length > FEEDBACK_LIMIT ? text.slice(text.length - FEEDBACK_LIMIT) : text;
}
