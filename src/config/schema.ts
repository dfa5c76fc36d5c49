import { z } from 'zod';

/** Drover's configuration: YAML file < environment < command-line flags, validated once. */
export const DroverConfig = z
  .object({
    temporal: z
      .object({
        address: z.string().min(1).default('127.0.0.1:7233').describe('Temporal frontend host:port'),
        namespace: z.string().min(1).default('default'),
        uiUrl: z.url().optional().describe('base URL of the Temporal UI, for job links'),
      })
      .strict()
      .default({ address: '127.0.0.1:7233', namespace: 'default' }),
    taskQueue: z.string().min(1).max(200).default('drover').describe('the shared queue for jobs'),
    dataDir: z.string().min(1).optional().describe('mirrors, worktrees, job logs and the dev server db'),
    workerId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .optional()
      .describe('stable id of this worker; its private queue is <taskQueue>@<workerId>'),
    worker: z
      .object({
        maxConcurrentAgents: z.number().int().min(1).max(100).default(4).describe('agents running at once on this worker'),
        shutdownGrace: z.string().default('10s').describe('how long running activities get on shutdown'),
      })
      .strict()
      .default({ maxConcurrentAgents: 4, shutdownGrace: '10s' }),
    dev: z
      .object({
        port: z.number().int().min(1).max(65535).default(7233),
        uiPort: z.number().int().min(1).max(65535).default(8233),
      })
      .strict()
      .default({ port: 7233, uiPort: 8233 }),
  })
  .strict();
export type DroverConfigInput = z.input<typeof DroverConfig>;
export type DroverConfig = z.infer<typeof DroverConfig> & { dataDir: string };
