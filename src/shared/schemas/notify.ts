/**
 * Notifications: what a job may ask for (webhooks without secrets), and the payload a receiver gets. The
 * payload is built in the workflow from what history already holds, so it can never carry a worker secret.
 */
import { z } from 'zod';

export const NOTIFY_EVENTS = ['waiting_for_human', 'succeeded', 'failed', 'no_changes', 'cancelled', 'budget_exceeded'] as const;
export const NotifyEvent = z.enum(NOTIFY_EVENTS);
export type NotifyEvent = z.infer<typeof NotifyEvent>;

/** http(s) only, and no user:password in it: the job's URL is in its history, which every UI user can read. */
export const WebhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2_000)
  .refine((u) => !/^[a-z]+:\/\/[^/?#]*@/i.test(u), 'must not contain a user or password (job inputs are visible in the UI)');

export const NotifyEvents = z.array(NotifyEvent).min(1).max(NOTIFY_EVENTS.length);

/** A webhook named by the job: signed with the worker's notify.jobSecret, or unsigned when it has none. */
export const JobWebhook = z
  .object({ url: WebhookUrl.describe('where the JSON POST goes'), events: NotifyEvents.describe('the events it gets') })
  .strict();
export type JobWebhook = z.infer<typeof JobWebhook>;

export const JobNotify = z
  .object({
    webhooks: z.array(JobWebhook).max(5).optional(),
    workerEvents: z
      .array(NotifyEvent)
      .max(NOTIFY_EVENTS.length)
      .optional()
      .describe("set by the worker that checks the job's input: the events its notify config subscribes to; a job's own value is replaced"),
  })
  .strict();
export type JobNotify = z.infer<typeof JobNotify>;

const MESSAGE_LIMIT = 500;

/** What every receiver gets, as the JSON body. Small and bounded: it is a child workflow's input too. */
export const NotifyPayload = z
  .object({
    event: NotifyEvent,
    jobId: z.string().max(100),
    status: z.string().max(50),
    question: z.string().max(10_000).optional(),
    branch: z.string().max(200),
    commit: z.string().max(100).optional(),
    uiUrl: z.string().max(2_000).optional(),
    repo: z.string().max(1_000),
    agent: z.string().max(100),
    failure: z.object({ type: z.string().max(100), message: z.string().max(MESSAGE_LIMIT) }).optional(),
    at: z.string().max(40),
  })
  .strict();
export type NotifyPayload = z.infer<typeof NotifyPayload>;

/** The delivery workflow's argument: the payload (the worker adds uiUrl) and the job's own webhooks for the event. */
export interface NotifyDelivery {
  payload: Omit<NotifyPayload, 'uiUrl'>;
  jobWebhooks: string[];
}
