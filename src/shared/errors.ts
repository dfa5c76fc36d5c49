/**
 * The one table of Drover's failure types. It decides whether Temporal retries a failure and which exit
 * code the CLI returns for it. Pure and workflow-safe.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  cancelled: 4,
  unavailable: 5,
  humanTimeout: 6,
  budgetExceeded: 7,
} as const;

export const ERROR_POLICY = {
  InvalidInput: { retryable: false, exitCode: EXIT.usage },
  ConfigInvalid: { retryable: false, exitCode: EXIT.usage },
  RepoNotFound: { retryable: false, exitCode: EXIT.usage },
  BaseRefNotFound: { retryable: false, exitCode: EXIT.usage },
  /** The repository (or its protocol) is outside what the worker allows (repos.allow, git.protocols). */
  RepoNotAllowed: { retryable: false, exitCode: EXIT.usage },
  /** The job asks for a variable in its container that the worker's docker.envAllow does not list. */
  EnvNotAllowed: { retryable: false, exitCode: EXIT.usage },
  /** The repository's .drover.yml at the base commit is not valid: fixing it needs a new commit. */
  RepoConfigInvalid: { retryable: false, exitCode: EXIT.usage },
  JobNotFound: { retryable: false, exitCode: EXIT.notFound },
  JobAlreadyExists: { retryable: false, exitCode: EXIT.usage },
  GitFailed: { retryable: true, exitCode: EXIT.failed },
  /** The git remote refused the worker's credentials (or it has none): a retry sends the same ones. */
  GitAuthFailed: { retryable: false, exitCode: EXIT.failed },
  /** The job branch in the origin moved to a commit Drover did not make: it is not overwritten. */
  PushRejected: { retryable: false, exitCode: EXIT.failed },
  /** The origin refuses the push itself (its checked-out branch, a hook): the same push is refused again. */
  PushRefused: { retryable: false, exitCode: EXIT.failed },
  AgentFailed: { retryable: true, exitCode: EXIT.failed },
  AgentIdle: { retryable: true, exitCode: EXIT.failed },
  AgentTimeout: { retryable: false, exitCode: EXIT.failed },
  AgentCommandNotFound: { retryable: false, exitCode: EXIT.failed },
  AgentProtocolError: { retryable: false, exitCode: EXIT.failed },
  /** The model API refused the credentials: retrying cannot help until someone fixes the worker's key. */
  AgentAuthFailed: { retryable: false, exitCode: EXIT.failed },
  AgentRateLimited: { retryable: true, exitCode: EXIT.failed },
  AgentModelError: { retryable: true, exitCode: EXIT.failed },

  /** A setup step failed: the agent never ran (its failure would not be the agent's). */
  SetupFailed: { retryable: false, exitCode: EXIT.failed },
  CriticFailed: { retryable: false, exitCode: EXIT.failed },
  HumanTimeout: { retryable: false, exitCode: EXIT.humanTimeout },
  /** The job spent its budget (or its worker's daily ceiling): another run would spend more. */
  BudgetExceeded: { retryable: false, exitCode: EXIT.budgetExceeded },
  WorkerUnavailable: { retryable: false, exitCode: EXIT.failed },
  /** The job's commit could not land on its target (no such branch, a repository the workers refuse). */
  IntegrationFailed: { retryable: false, exitCode: EXIT.failed },
  WorkspaceLost: { retryable: false, exitCode: EXIT.failed },
  ServerUnavailable: { retryable: true, exitCode: EXIT.unavailable },
  /** No Docker engine answers: a worker or job set up for containers cannot run. */
  DockerUnavailable: { retryable: false, exitCode: EXIT.unavailable },
  DockerImageMissing: { retryable: false, exitCode: EXIT.unavailable },
  /** The agent hit its container's memory (or pid) limit: the same run would hit it again. */
  AgentResourceLimit: { retryable: false, exitCode: EXIT.failed },
  TemporalCliUnavailable: { retryable: false, exitCode: EXIT.unavailable },
  /** A notification receiver answered 4xx (not 408/429): the same request would be refused again. */
  NotificationRejected: { retryable: false, exitCode: EXIT.failed },
  /** A notification receiver is down or answered 5xx, or a notify command failed: delivered again later. */
  NotificationFailed: { retryable: true, exitCode: EXIT.failed },
  Unexpected: { retryable: true, exitCode: EXIT.failed },
} as const satisfies Record<string, { retryable: boolean; exitCode: number }>;

export type ErrorType = keyof typeof ERROR_POLICY;

export function isErrorType(value: unknown): value is ErrorType {
  return typeof value === 'string' && Object.hasOwn(ERROR_POLICY, value);
}

/** A failure Drover understands. Domain code throws it; activities turn it into an ApplicationFailure. */
export class AppError extends Error {
  readonly type: ErrorType;
  readonly details: Record<string, unknown> | undefined;

  constructor(type: ErrorType, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.type = type;
    this.details = options.details;
  }

  get retryable(): boolean {
    return ERROR_POLICY[this.type].retryable;
  }
}

/** Walks a failure's cause chain (client, activity and application failures) and returns the first Drover type. */
export function failureTypeOf(err: unknown): ErrorType | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 10; depth++) {
    const type = (e as { type?: unknown }).type;
    if (isErrorType(type)) return type;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function exitCodeFor(err: unknown): number {
  const type = failureTypeOf(err);
  return type ? ERROR_POLICY[type].exitCode : EXIT.failed;
}
