/** Where agent and validation processes run. Runtimes own processes (and later containers); nothing else spawns. */
export interface ExecSpec {
  argv: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  stdin?: string;
  signal?: AbortSignal;
  /** Kill the process when it prints nothing for this long. */
  idleTimeoutMs?: number;
  /** Kill the process when it runs this long. */
  hardTimeoutMs?: number;
  /** Marks every process of this run so leftovers of a crashed worker can be found and killed. */
  tag?: string;
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
}

export type ExecEnd = 'exit' | 'idle' | 'timeout' | 'cancelled';

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  end: ExecEnd;
  durationMs: number;
}

export interface Runtime {
  readonly kind: 'host';
  exec(spec: ExecSpec): Promise<ExecResult>;
  /** Kills processes left over from an earlier attempt with this tag; returns how many it killed. */
  killTagged(tag: string): Promise<number>;
}

export const TAG_ENV = 'DROVER_PROCESS_TAG';
