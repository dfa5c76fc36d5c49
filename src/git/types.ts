/** The shapes every git step shares: what a call carries, where a command runs, and the repositories it names. */
import type { Spawner } from './spawner.js';

export type GitStep = 'clone' | 'fetch' | 'push' | 'local';

export interface GitOptions {
  /** Per kind of step, in ms. */
  timeouts: Record<GitStep, number>;
  /** Where local git commands start (the worker's spawner); default: this process. */
  spawner?: Spawner;
  /** Network protocols a repository may use (file is allowed for local repositories only). */
  protocols: readonly string[];
}

/** One call's context: the activity's cancellation, and the job whose processes these are. */
export interface GitCall {
  signal?: AbortSignal;
  /** The job's process tag, so the job's cleanup and the worker's sweep find stray git processes. */
  tag?: string;
}

/** A job's repository as the worker keeps it: its own git directory, and the worktree the agent edits. */
export interface JobRepo {
  gitdir: string;
  worktree: string;
}

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  size: number;
}

/** Where one git command runs, and under which step's timeout. */
export interface GitRun {
  step: GitStep;
  cwd?: string;
  repo?: JobRepo;
  gitdir?: string;
  /** Allow the file protocol: the repository is a local path. */
  local?: boolean;
}

/** Runs one git command, bounded and hardened (git.ts); every step below takes it as its first argument. */
export type RunGit = (run: GitRun, args: string[], call?: GitCall) => Promise<string>;
