/** Finds or builds the Temporal server and its SQL schema tool, for tests that run a real multi-service cluster. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isExecutable } from '../executables.js';
import { AppError } from '../shared/errors.js';
import { cacheDir } from './cli-binary.js';
import { runWithProgress } from './go-run.js';

export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
}

type BinaryName = 'temporal-server' | 'temporal-sql-tool';

/** What `go install` calls each binary (the last path element) and the name Drover's cache gives it. */
const BINARIES: Record<BinaryName, { pkg: string; goName: string; envVar: string }> = {
  'temporal-server': { pkg: 'cmd/server', goName: 'server', envVar: 'DROVER_TEMPORAL_SERVER' },
  'temporal-sql-tool': { pkg: 'cmd/tools/sql', goName: 'sql', envVar: 'DROVER_TEMPORAL_SQL_TOOL' },
};

const fail = (message: string) => new AppError('TemporalCliUnavailable', message);

/** The override variable if set (it must be executable), else Drover's cache, else undefined. */
function findBinary(name: BinaryName, env: NodeJS.ProcessEnv): string | undefined {
  const override = env[BINARIES[name].envVar];
  if (override) {
    if (!isExecutable(override)) throw fail(`${BINARIES[name].envVar}=${override} is not an executable file`);
    return override;
  }
  const cached = join(cacheDir(env), 'bin', name);
  return isExecutable(cached) ? cached : undefined;
}

/** Looks in DROVER_TEMPORAL_SERVER / DROVER_TEMPORAL_SQL_TOOL, then Drover's cache; not on PATH, whose versions vary. */
export function findTemporalServer(env: NodeJS.ProcessEnv = process.env): TemporalServerBinaries | undefined {
  const server = findBinary('temporal-server', env);
  const sqlTool = findBinary('temporal-sql-tool', env);
  return server && sqlTool ? { server, sqlTool } : undefined;
}

function requireGo(): void {
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) {
    throw fail(
      'no Temporal server found (DROVER_TEMPORAL_SERVER, DROVER_TEMPORAL_SQL_TOOL, cache) and no Go toolchain to build it: ' +
        'install Go >= 1.25, or set DROVER_TEMPORAL_SERVER and DROVER_TEMPORAL_SQL_TOOL',
    );
  }
}

/** Finds the server and the SQL tool, or builds the missing ones with Go into the cache (minutes, once). */
export async function ensureTemporalServer(
  progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<TemporalServerBinaries> {
  const missing = (Object.keys(BINARIES) as BinaryName[]).filter((name) => !findBinary(name, env));
  if (missing.length > 0) {
    requireGo();
    await goInstall(missing, progress, env);
  }
  const found = findTemporalServer(env);
  if (!found) throw fail(`the Temporal server build left no binaries in ${join(cacheDir(env), 'bin')}`);
  return found;
}

async function goInstall(names: BinaryName[], progress: (line: string) => void, env: NodeJS.ProcessEnv): Promise<void> {
  const binDir = join(cacheDir(env), 'bin');
  mkdirSync(binDir, { recursive: true });
  // Build into a private dir and rename, so a half build (or a concurrent one) never leaves a binary to be found.
  const tmpBin = mkdtempSync(join(binDir, '.build-server-'));
  const targets = names.map((name) => `${TEMPORAL_SERVER_MODULE}/${BINARIES[name].pkg}@${TEMPORAL_SERVER_VERSION}`);
  progress(`drover: building ${names.join(' and ')} (${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}) with Go; once, minutes`);
  const started = Date.now();
  try {
    const { code, lastLine } = await runWithProgress(['install', '-v', ...targets], { ...env, GOBIN: tmpBin }, (packages) =>
      progress(`drover: building Temporal server... ${Math.round((Date.now() - started) / 1000)}s, ${packages} packages compiled`),
    );
    for (const name of names) {
      const built = join(tmpBin, BINARIES[name].goName);
      if (code !== 0 || !existsSync(built)) throw fail(`go install ${targets.join(' ')} failed (exit ${code}): ${lastLine}`);
    }
    for (const name of names) renameSync(join(tmpBin, BINARIES[name].goName), join(binDir, name));
  } finally {
    rmSync(tmpBin, { recursive: true, force: true });
  }
  progress(`drover: Temporal server built in ${Math.round((Date.now() - started) / 1000)}s: ${binDir}`);
}

/**
 * The PostgreSQL (v12 plugin) schema dir of the server module, which holds `temporal/versioned` and
 * `visibility/versioned`. DROVER_TEMPORAL_SCHEMA_DIR overrides it for machines with prebuilt binaries and no Go.
 */
export function temporalSchemaDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DROVER_TEMPORAL_SCHEMA_DIR) return env.DROVER_TEMPORAL_SCHEMA_DIR;
  const modDir = moduleDir(env);
  const dir = join(modDir, 'schema', 'postgresql', 'v12');
  if (!existsSync(join(dir, 'temporal', 'versioned'))) throw fail(`no PostgreSQL schema in ${modDir}`);
  return dir;
}

/** The module's dir in the Go module cache: the usual path if present, else whatever `go mod download` reports. */
function moduleDir(env: NodeJS.ProcessEnv): string {
  const versioned = `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`;
  const modCache = spawnSync('go', ['env', 'GOMODCACHE'], { env, encoding: 'utf8' });
  if (modCache.status === 0) {
    const dir = join(modCache.stdout.trim(), versioned);
    if (existsSync(dir)) return dir;
  }
  const download = spawnSync('go', ['mod', 'download', '-json', versioned], { env, encoding: 'utf8' });
  if (download.error || download.status !== 0) {
    throw fail(`cannot find ${versioned} in the Go module cache: ${download.error?.message ?? (download.stdout || download.stderr)}`);
  }
  const dir = (JSON.parse(download.stdout) as { Dir?: string }).Dir;
  if (!dir) throw fail(`go mod download -json ${versioned} reported no Dir`);
  return dir;
}
