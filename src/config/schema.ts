import { z } from 'zod';
import { Duration, EnvName, JobDefaults, NotifyEvents, WebhookUrl } from '../shared/schemas.js';

/** What every CLI backend shares; set per worker, never by a job. */
const backendBase = (command: string) => ({
  command: z.string().min(1).default(command).describe('the CLI to run: a name on PATH or a path'),
  model: z.string().min(1).optional().describe('default model when the job names none'),
  extraArgs: z.array(z.string()).default([]).describe('arguments added to every invocation'),
  env: z.record(EnvName, z.string()).default({}).describe('non-secret variables for this CLI'),
  idleTimeout: z.string().default('5m').describe('kill the CLI when it prints nothing this long (a job may set its own)'),
  afterResultGrace: z.string().default('5s').describe('how long the CLI may linger after its final result before it is stopped'),
});

export const ClaudeCodeSettings = z
  .object({
    ...backendBase('claude'),
    permissionMode: z.enum(['default', 'acceptEdits', 'plan', 'bypassPermissions', 'dontAsk']).default('acceptEdits'),
    allowedTools: z.array(z.string()).default([]).describe('tools allowed besides edits, e.g. Bash(npm test:*)'),
    /** A tool outside allowedTools asks for permission; nobody is there to say yes, so Drover answers. */
    onPermissionRequest: z.enum(['deny', 'allow']).default('deny'),
  })
  .strict();
export const CodexSettings = z
  .object({
    ...backendBase('codex'),
    sandbox: z.enum(['read-only', 'workspace-write', 'danger-full-access']).default('workspace-write'),
    /** Codex's own sandbox needs Landlock/bubblewrap; inside a container or a sandbox-less host, bypass it. */
    bypassSandbox: z.boolean().default(false),
  })
  .strict();
export const OpenCodeSettings = z
  .object({
    ...backendBase('opencode'),
    autoApprove: z.boolean().default(false).describe('pass --auto: approve permission requests not explicitly denied'),
  })
  .strict();
export const MiniSweAgentSettings = z
  .object({
    ...backendBase('mini'),
    /** Where `mini` is looked for when command is the default and it is not on PATH: Drover's own venv. */
    install: z
      .boolean()
      .default(true)
      .describe("install mini-swe-agent into Drover's cache when worker.backends names it and it is missing"),
  })
  .strict();
export const OpenHandsSettings = z.object({ ...backendBase('drover-openhands') }).strict();
export const CommandSettings = z.object({ idleTimeout: z.string().default('5m'), afterResultGrace: z.string().default('5s') }).strict();

export const DockerConfig = z
  .object({
    image: z.string().min(1).optional().describe('default image (default: the one `drover image build` makes)'),
    poolSize: z.number().int().min(0).max(64).default(2).describe('warm containers kept per image; 0 creates one per job'),
    network: z.string().min(1).default('none').describe('Docker network of agent containers: none, host or a network name'),
    memory: z
      .string()
      .regex(/^\d+[kmg]?$/i)
      .default('4g'),
    cpus: z.number().positive().max(256).default(2),
    pids: z.number().int().min(16).max(1_000_000).default(1024),
    setup: z.array(z.string().min(1)).default([]).describe('commands run in every new container before it takes a job (warm-up hooks)'),
    socket: z.string().optional().describe('the engine socket (default: DOCKER_HOST or /var/run/docker.sock)'),
    envAllow: z
      .array(z.string().regex(/^[A-Za-z_*?][A-Za-z0-9_*?]*$/, 'must be a variable name or a glob such as ANTHROPIC_*'))
      .default([])
      .describe('variables a job may pass into its container with runtime.env (names or globs); none by default'),
  })
  .strict();
export type DockerConfig = z.infer<typeof DockerConfig>;

export const AgentsConfig = z
  .object({
    command: CommandSettings.default(CommandSettings.parse({})),
    'claude-code': ClaudeCodeSettings.default(ClaudeCodeSettings.parse({})),
    codex: CodexSettings.default(CodexSettings.parse({})),
    opencode: OpenCodeSettings.default(OpenCodeSettings.parse({})),
    'mini-swe-agent': MiniSweAgentSettings.default(MiniSweAgentSettings.parse({})),
    openhands: OpenHandsSettings.default(OpenHandsSettings.parse({})),
  })
  .strict();
export type AgentsConfig = z.infer<typeof AgentsConfig>;

const GIT_PROTOCOLS = ['https', 'ssh', 'git', 'http'] as const;
export const GitConfig = z
  .object({
    timeouts: z
      .object({
        clone: Duration.default('30m').describe('a first clone of a repository into the mirror'),
        fetch: Duration.default('10m').describe('a fetch into the mirror'),
        push: Duration.default('10m').describe('pushing the job branch'),
        local: Duration.default('5m').describe('everything that stays on the worker (checkout, add, commit, diff)'),
      })
      .strict()
      .default({ clone: '30m', fetch: '10m', push: '10m', local: '5m' }),
    protocols: z
      .array(z.enum(GIT_PROTOCOLS))
      .default(['https', 'ssh', 'git'])
      .describe('network protocols jobs may use; file is allowed for local repositories only'),
  })
  .strict();
export type GitConfig = z.infer<typeof GitConfig>;

/** A secret given inline or by the name of a variable of the worker's environment (kept from its agents). */
const secretFields = {
  secret: z.string().min(8).optional().describe('the HMAC-SHA256 key, inline'),
  secretEnv: EnvName.optional().describe("the worker's environment variable that holds the key"),
};
const oneSecret = (s: { secret?: string | undefined; secretEnv?: string | undefined }) => !(s.secret && s.secretEnv);

/** Where job events go; the worker's config holds every secret, so none is ever in a job's history. */
export const NotifyConfig = z
  .object({
    webhooks: z
      .array(
        z
          .object({ url: WebhookUrl.describe('where the JSON POST goes'), events: NotifyEvents, ...secretFields })
          .strict()
          .refine(oneSecret, 'give secret or secretEnv, not both'),
      )
      .max(20)
      .default([])
      .describe('webhooks for every job this worker starts; signed when they have a secret'),
    commands: z
      .array(
        z
          .object({
            argv: z.array(z.string().min(1)).min(1).max(100).describe('the command and its arguments; the payload on stdin'),
            events: NotifyEvents,
            timeout: Duration.default('30s').describe('its process tree is killed after this long'),
          })
          .strict(),
      )
      .max(20)
      .default([])
      .describe('local commands run with the payload on stdin (desktop notifications, chat tools)'),
    jobSecret: secretFields.secret.describe('the key that signs webhooks a job names (unsigned when neither is set)'),
    jobSecretEnv: secretFields.secretEnv,
    jobWebhookAllow: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'globs of the URLs webhooks a job names may reach (default: none, so no job webhook is sent), e.g. https://hooks.example.com/**',
      ),
  })
  .strict()
  .refine((n) => !(n.jobSecret && n.jobSecretEnv), 'give jobSecret or jobSecretEnv, not both');
export type NotifyConfig = z.infer<typeof NotifyConfig>;

/** How to reach Temporal, with the Temporal CLI's names (TEMPORAL_ADDRESS, TEMPORAL_TLS_CA, ...). */
export const TemporalConfig = z
  .object({
    address: z.string().min(1).default('127.0.0.1:7233').describe('Temporal frontend host:port'),
    namespace: z.string().min(1).default('default'),
    apiKey: z.string().min(1).optional().describe('API key (Temporal Cloud); turns TLS on'),
    tls: z
      .object({
        enabled: z
          .boolean()
          .optional()
          .describe('TLS with the system roots when nothing else is set (default: on with any TLS file or an API key)'),
        cert: z.string().min(1).optional().describe('client certificate file (mTLS)'),
        key: z.string().min(1).optional().describe('client private key file (mTLS)'),
        ca: z.string().min(1).optional().describe('CA certificate file that signed the server certificate'),
        serverName: z.string().min(1).optional().describe('name to check in the server certificate'),
      })
      .strict()
      .refine((t) => (t.cert === undefined) === (t.key === undefined), 'cert and key go together')
      .default({}),
    /** Kept for configs written before ui.url. */
    uiUrl: z.url().optional().describe('deprecated: use ui.url'),
  })
  .strict();
export type TemporalConfig = z.infer<typeof TemporalConfig>;

/** Drover's configuration: YAML file < environment < command-line flags, validated once. */
export const DroverConfig = z
  .object({
    temporal: TemporalConfig.default(TemporalConfig.parse({})),
    ui: z
      .object({ url: z.url().optional().describe('base URL of the Temporal UI, for job links (drover dev: its own UI)') })
      .strict()
      .default({}),
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
        drainTimeout: Duration.default('10m').describe(
          'on SIGTERM, how long the jobs held here may take to finish before they are handed back',
        ),
        metrics: z
          .string()
          .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
          .optional()
          .describe('serve Prometheus metrics at http://<host:port>/metrics'),
        backends: z
          .array(z.enum(['command', 'claude-code', 'codex', 'opencode', 'mini-swe-agent', 'openhands']))
          .optional()
          .describe('the backends this worker offers (default: every one whose CLI it finds)'),
        envFiles: z.array(z.string().min(1)).default([]).describe('KEY=value files whose variables agents get (credentials)'),
        runtime: z.enum(['host', 'docker']).default('host').describe('where jobs that name no runtime run'),
        docker: z.boolean().optional().describe('offer the docker runtime (default: when an engine answers)'),
        spareCheckouts: z
          .number()
          .int()
          .min(0)
          .max(4)
          .default(1)
          .describe('checkouts kept ready for each repository whose checkout takes over 100 ms (the 4 used last); 0: none'),
        dailyBudget: z
          .object({
            tokens: z.number().int().positive().optional().describe('input plus output tokens'),
            usd: z.number().positive().optional(),
          })
          .strict()
          .optional()
          .describe("what all agent runs on this worker may spend in a day (UTC); a job's run past it ends BudgetExceeded"),
      })
      .strict()
      .default({ maxConcurrentAgents: 4, shutdownGrace: '10s', drainTimeout: '10m', envFiles: [], runtime: 'host', spareCheckouts: 1 }),
    docker: DockerConfig.default(DockerConfig.parse({})),
    git: GitConfig.default(GitConfig.parse({})),
    repos: z
      .object({
        allow: z
          .array(z.string().min(1))
          .optional()
          .describe(
            'globs of repository URLs and local paths jobs may name (default: any); * stays within a path segment, ** crosses them',
          ),
        trustConfig: z
          .array(z.string().min(1))
          .default([])
          .describe(
            "globs of repositories whose .drover.yml setup, validate and teardown may run on the host runtime, with the worker's environment (in a container they always may); none by default",
          ),
      })
      .strict()
      .default({ trustConfig: [] }),
    agents: AgentsConfig.default(AgentsConfig.parse({})),
    defaults: JobDefaults.default({}).describe('setup, validate, teardown and cache for jobs whose job and repository name none'),
    cache: z
      .object({
        maxSize: z
          .string()
          .regex(/^\d+(\.\d+)?[kmgt]?$/i, 'must be a size such as 500m or 10g')
          .default('10g')
          .describe('dependency caches kept, oldest used evicted first'),
      })
      .strict()
      .default({ maxSize: '10g' }),
    notify: NotifyConfig.default({ webhooks: [], commands: [] }).describe('webhooks and commands that get job events'),
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
