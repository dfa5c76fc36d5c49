import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, isExecutable } from '../executables.js';
import { AppError } from '../shared/errors.js';
import { runWithProgress } from './go-run.js';

/** The newest CLI tag `go install` accepts (later tags carry a `replace` directive). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DROVER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'drover');
}

/** Looks in DROVER_TEMPORAL_CLI, then PATH, then Drover's cache. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DROVER_TEMPORAL_CLI) {
    if (!isExecutable(env.DROVER_TEMPORAL_CLI)) {
      throw new AppError('TemporalCliUnavailable', `DROVER_TEMPORAL_CLI=${env.DROVER_TEMPORAL_CLI} is not an executable file`);
    }
    return env.DROVER_TEMPORAL_CLI;
  }
  const onPath = findOnPath('temporal', env);
  if (onPath) return onPath;
  const cached = join(cacheDir(env), 'bin', 'temporal');
  return isExecutable(cached) ? cached : undefined;
}

/** Finds the Temporal CLI, or builds it with Go into the cache (minutes, once), reporting progress. */
export async function ensureTemporalCli(
  progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const found = findTemporalCli(env);
  if (found) return found;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) {
    throw new AppError(
      'TemporalCliUnavailable',
      'no Temporal CLI found (DROVER_TEMPORAL_CLI, PATH, cache) and no Go toolchain to build one: ' +
        `install Go >= 1.25, or put the temporal binary on PATH, or set DROVER_TEMPORAL_CLI`,
    );
  }
  const binDir = join(cacheDir(env), 'bin');
  mkdirSync(binDir, { recursive: true });
  // Build into a private dir and rename, so two concurrent builds never leave a half-written binary.
  const tmpBin = mkdtempSync(join(binDir, '.build-'));
  progress(`drover: building the Temporal CLI (${TEMPORAL_CLI_MODULE}) with Go; this happens once and takes a few minutes`);
  const started = Date.now();
  const { code, lastLine } = await runWithProgress(['install', '-v', TEMPORAL_CLI_MODULE], { ...env, GOBIN: tmpBin }, (packages) =>
    progress(`drover: building Temporal CLI... ${Math.round((Date.now() - started) / 1000)}s, ${packages} packages compiled`),
  );
  const built = join(tmpBin, 'temporal');
  if (code !== 0 || !existsSync(built)) {
    rmSync(tmpBin, { recursive: true, force: true });
    throw new AppError('TemporalCliUnavailable', `go install ${TEMPORAL_CLI_MODULE} failed (exit ${code}): ${lastLine}`);
  }
  const target = join(binDir, 'temporal');
  renameSync(built, target);
  rmSync(tmpBin, { recursive: true, force: true });
  progress(`drover: Temporal CLI built in ${Math.round((Date.now() - started) / 1000)}s: ${target}`);
  return target;
}
