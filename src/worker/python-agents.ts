/**
 * Python agents Drover can install for itself: a venv per agent under Drover's cache (next to the Temporal
 * CLI it builds), made in place (a venv cannot be moved) and marked complete only once pip succeeded.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, isExecutable } from '../executables.js';
import type { DroverConfig } from '../config/schema.js';
import { AppError } from '../shared/errors.js';
import { cacheDir } from '../temporal/cli-binary.js';

/** Pinned: the flags and output Drover relies on are this version's. litellm imports mcp without requiring it. */
export const MINI_SWE_AGENT_PACKAGES = ['mini-swe-agent==2.4.6', 'mcp'];
const COMPLETE = '.drover-complete';
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const venvDir = (env: NodeJS.ProcessEnv, name: string) => join(cacheDir(env), 'venvs', name);

/** `mini` on PATH, else in Drover's venv, else undefined. */
export function findMini(env: NodeJS.ProcessEnv): string | undefined {
  const onPath = findOnPath('mini', env);
  if (onPath) return onPath;
  const venv = venvDir(env, 'mini-swe-agent');
  return existsSync(join(venv, COMPLETE)) && isExecutable(join(venv, 'bin', 'mini')) ? join(venv, 'bin', 'mini') : undefined;
}

/** Creates the venv and installs the packages (a minute or two, once), reporting progress. */
export async function installPythonAgent(
  name: string,
  packages: string[],
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<string> {
  const venv = venvDir(env, name);
  rmSync(venv, { recursive: true, force: true });
  progress(`installing ${packages.join(' ')} into ${venv}; this happens once`);
  const started = Date.now();
  await run(['python3', '-m', 'venv', venv], env, `python3 -m venv (is python3-venv installed?)`);
  await run(
    [join(venv, 'bin', 'python'), '-m', 'pip', 'install', '--disable-pip-version-check', '-q', ...packages],
    env,
    `pip install ${packages.join(' ')}`,
  );
  writeFileSync(join(venv, COMPLETE), `${packages.join(' ')}\n`);
  progress(`installed ${name} in ${Math.round((Date.now() - started) / 1000)}s`);
  return venv;
}

/**
 * The mini-swe-agent command this worker uses: the configured one, or (the default `mini` missing from PATH)
 * Drover's venv, installed when worker.backends names the backend. Undefined changes nothing.
 */
export async function resolveMiniCommand(
  config: DroverConfig,
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<string | undefined> {
  const settings = config.agents['mini-swe-agent'];
  if (settings.command !== 'mini') return undefined;
  const found = findMini(env);
  if (found) return found;
  if (!settings.install || !config.worker.backends?.includes('mini-swe-agent')) return undefined;
  const venv = await installPythonAgent('mini-swe-agent', MINI_SWE_AGENT_PACKAGES, env, progress);
  return join(venv, 'bin', 'mini');
}

function run(argv: string[], env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: INSTALL_TIMEOUT_MS });
    let tail = '';
    child.stderr.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2_000)));
    child.on('error', (err) => reject(new AppError('AgentCommandNotFound', `${what}: ${err.message}`)));
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new AppError('AgentCommandNotFound', `${what} failed (exit ${code}): ${tail.trim().split('\n').slice(-2).join(' / ')}`)),
    );
  });
}
