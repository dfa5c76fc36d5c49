import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AnswerPayload, MessagePayload, IntegrationEntry, IntegrationOutcome, JobStatusView, QueueView } from '../shared/schemas.js';

/** Wire names are public API: `temporal workflow signal --name answer --input '{"text":"..."}'` must keep working. */
export const answerSignal = defineSignal<[AnswerPayload]>('answer');
/** A person's guidance for the running agent: `temporal workflow signal --name message --input '{"text":"..."}'`. */
export const messageSignal = defineSignal<[MessagePayload]>('message');
export const statusQuery = defineQuery<JobStatusView>('status');
/** From a repository's integration workflow to the job whose commit it landed or sent back. */
export const integrationSignal = defineSignal<[IntegrationOutcome]>('integration');

/** A job's commit for the integration workflow: `temporal workflow signal --name enqueue` works too. */
export const enqueueSignal = defineSignal<[IntegrationEntry]>('enqueue');
export const queueQuery = defineQuery<QueueView>('queue');
/** A cancelled job takes its commit out of the queue (a running one is not pushed). */
export const withdrawSignal = defineSignal<[{ jobId: string }]>('withdraw');
