/**
 * Every git operation Drover performs. The only module that imports simple-git.
 *
 * Git here only ever reads configuration the worker wrote: each job has its own git directory outside its
 * worktree (objects shared with the repository's mirror through alternates), every command names that
 * directory and the work tree explicitly, hooks and fsmonitor are off, and whatever a job leaves in its
 * worktree (a `.git` of its own included) is just content. Every command is bounded by a timeout, can be
 * cancelled, never prompts, and may use only the protocols the worker enables.
 *
 * This file runs the commands; the steps built on them live beside it, one concern a file (mirror, checkout,
 * tree, stage, commit), each taking the command runner as its first argument.
 */
import { randomUUID } from 'node:crypto';
import { simpleGit } from 'simple-git';
import { adoptSpare, createAgentRepo, createJobRepo, makeSpare } from './checkout.js';
import { commitJob, pushCommit } from './commit.js';
import { CALL_ENV, gitEnv, HARDENED, TRUSTED_ENV, WORKER_GIT_ENV } from './env.js';
import { GitCancelled } from './errors.js';
import { commitMessage, commitTree, isAncestor, landedCommit, mergeTrees } from './integrate.js';
import { excludeFromCommit } from './git-dir.js';
import { isGitRepo, legacyJobBranches, originBranch, resolveBase, syncMirror } from './mirror.js';
import { runPlumbing } from './plumbing.js';
import { mergeIntoWorktree, snapshotWorktree } from './snapshot.js';
import { deleteRef } from './refs.js';
import { SpawnerError } from './spawner.js';
import { markSetupTree, stagedDiff } from './stage.js';
import { changedFiles, readBlob, treeEntries } from './tree.js';
import type { GitCall, GitOptions, GitRun, RunGit } from './types.js';
import { killTaggedProcesses } from '../runtimes/process-tags.js';
import { AppError } from '../shared/errors.js';

export { GitCancelled } from './errors.js';
export { WORKER_GIT_ENV } from './env.js';
export type { GitCall, GitOptions, GitStep, JobRepo, TreeEntry } from './types.js';
export { unquotePath } from './unquote-path.js';
export { integratedMessage } from './integrate.js';

export function createGit(opts: GitOptions) {
  const git: RunGit = (run, args, call) => runGit(opts, run, args, call);
  const withGit =
    <A extends unknown[], R>(step: (git: RunGit, ...args: A) => R) =>
    (...args: A): R =>
      step(git, ...args);
  return {
    syncMirror: withGit(syncMirror),
    resolveBase: withGit(resolveBase),
    originBranch: withGit(originBranch),
    createJobRepo: withGit(createJobRepo),
    makeSpare: withGit(makeSpare),
    adoptSpare: withGit(adoptSpare),
    createAgentRepo,
    treeEntries: withGit(treeEntries),
    readBlob: withGit(readBlob),
    markSetupTree: withGit(markSetupTree),
    excludeFromCommit,
    stagedDiff: withGit(stagedDiff),
    commitJob: withGit(commitJob),
    pushCommit: withGit(pushCommit),
    mergeTrees: withGit(mergeTrees),
    commitTree: withGit(commitTree),
    commitMessage: withGit(commitMessage),
    landedCommit: withGit(landedCommit),
    isAncestor: withGit(isAncestor),
    changedFiles: withGit(changedFiles),
    legacyJobBranches: withGit(legacyJobBranches),
    deleteRef: withGit(deleteRef),
    isGitRepo: withGit(isGitRepo),
    snapshotWorktree: withGit(snapshotWorktree),
    mergeIntoWorktree: withGit(mergeIntoWorktree),
  };
}

export type Git = ReturnType<typeof createGit>;

async function runGit(opts: GitOptions, run: GitRun, args: string[], call: GitCall = {}): Promise<string> {
  const id = randomUUID();
  const timeoutMs = opts.timeouts[run.step];
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  const protocols = [...opts.protocols, ...(run.local ? ['file'] : [])].map((p) => `protocol.${p}.allow=always`);
  const gitdir = run.repo?.gitdir ?? run.gitdir;
  const explicit = gitdir ? [`--git-dir=${gitdir}`, ...(run.repo ? [`--work-tree=${run.repo.worktree}`] : [])] : [];
  const cwd = run.cwd ?? run.repo?.worktree ?? gitdir ?? '/';
  const config = [...HARDENED, ...protocols];
  const env = gitEnv(id, call.tag);
  try {
    if (run.step === 'local')
      return await runPlumbing([...config.flatMap((c) => ['-c', c]), ...explicit, ...args], {
        cwd,
        env,
        signal,
        ...(opts.spawner ? { spawner: opts.spawner } : {}),
      });
    const g = simpleGit({
      baseDir: cwd,
      binary: 'git',
      trimmed: true,
      abort: signal,
      config,
      allowEnvironment: [...WORKER_GIT_ENV, 'GIT_TERMINAL_PROMPT', 'GIT_SSH_COMMAND'],
      unsafe: {
        ...TRUSTED_ENV,
        allowUnsafeHooksPath: true,
        allowUnsafeFsMonitor: true,
        allowUnsafeProtocolOverride: true,
        allowUnsafeConfigPaths: true,
      },
    }).env(env);
    return await g.raw([...explicit, ...args]);
  } catch (err) {
    if (!signal.aborted) {
      // The spawner died under the call: what git started may still hold locks (index.lock).
      if (err instanceof SpawnerError) await killTaggedProcesses(CALL_ENV, id, 500);
      throw err;
    }
    // simple-git signals git itself; helpers it started (remote-https, receive-pack, a hook) may outlive it.
    await killTaggedProcesses(CALL_ENV, id, 500);
    if (call.signal?.aborted) throw new GitCancelled();
    const command = args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? 'command';
    throw new AppError(
      'GitFailed',
      `git ${command} timed out after ${Math.round(timeoutMs / 1000)}s (git.timeouts.${run.step}); is the remote answering?`,
    );
  }
}
