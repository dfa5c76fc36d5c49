import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AnswerPayload, JobStatusView } from '../shared/schemas.js';

/** Wire names are public API: `temporal workflow signal --name answer --input '{"text":"..."}'` must keep working. */
export const answerSignal = defineSignal<[AnswerPayload]>('answer');
export const statusQuery = defineQuery<JobStatusView>('status');
