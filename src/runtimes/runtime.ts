/** Where agent and validation processes run: on the host or in a job's container. Runtimes own processes and containers; nothing else spawns. */
/** How long a stopped process has between SIGTERM and SIGKILL, on the host and in a container alike. */
export const KILL_GRACE_MS = 2_000;

export interface ExecSpec {
  argv: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  stdin?: string;
  /** Leave stdin open after `stdin` for a conversation with the process (see `onStart`). */
  keepStdinOpen?: boolean;
  /** Receives the handle for talking to the running process. */
  onStart?: (io: ExecIO) => void;
  signal?: AbortSignal;
  /** Kill the process when it prints nothing for this long. */
  idleTimeoutMs?: number;
  /** Kill the process when it runs this long. */
  hardTimeoutMs?: number;
  /** Marks every process of this run so leftovers of a crashed worker can be found and killed. */
  tag?: string;
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** Talking to a running process. */
export interface ExecIO {
  write(text: string): void;
  closeStdin(): void;
  /** Stops the process (and its group) because its work is done; the run ends as 'finished'. */
  finish(): void;
}

export type ExecEnd = 'exit' | 'idle' | 'timeout' | 'cancelled' | 'finished';

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  end: ExecEnd;
  durationMs: number;
}

export interface Runtime {
  readonly kind: 'host' | 'docker';
  exec(spec: ExecSpec): Promise<ExecResult>;
  /** Kills processes left over from an earlier attempt with this tag; returns how many it killed. */
  killTagged(tag: string): Promise<number>;
}
