/** What every git command runs with: the worker's environment made safe, and settings no repository can undo. */
import { TAG_ENV } from '../runtimes/process-tags.js';

/** Marks every process of one git call, so a timeout or cancel can stop its helpers too. */
export const CALL_ENV = 'DROVER_GIT_CALL';

/** An editor or pager would wait for a person: git never gets one (npm, for one, exports EDITOR). */
const NOT_FOR_GIT = /^(editor|visual|pager|git_editor|git_pager|git_sequence_editor)$/i;
/**
 * The worker's own GIT_* variables (GIT_SSH_COMMAND, GIT_ASKPASS, GIT_CONFIG_*, GIT_SSL_CAINFO), SSH_ASKPASS
 * and PREFIX are trusted settings for reaching private repositories; simple-git refuses them unless allowed.
 */
export const WORKER_GIT_ENV = Object.keys(process.env).filter((k) => /^(git_.*|ssh_askpass|prefix)$/i.test(k) && !NOT_FOR_GIT.test(k));
/** They may name programs, which simple-git refuses unless told the values are trusted: they are the worker's. */
export const TRUSTED_ENV = {
  allowUnsafeSshCommand: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeGitProxy: true,
  allowUnsafeExec: true,
} as const;
/** Settings no repository can undo: the command line outranks every config file. */
export const HARDENED = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'submodule.recurse=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'protocol.allow=never',
];

/** Git's environment: the worker's, never prompting, and tagged so stray processes can be found. */
export function gitEnv(callId: string, tag: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !NOT_FOR_GIT.test(k)) env[k] = v;
  env.GIT_TERMINAL_PROMPT = '0';
  // ssh would ask on the terminal for a passphrase or a host key; a worker has nobody to answer.
  if (env.GIT_SSH === undefined) env.GIT_SSH_COMMAND ??= 'ssh -o BatchMode=yes';
  env[CALL_ENV] = callId;
  if (tag) env[TAG_ENV] = tag;
  return env;
}
