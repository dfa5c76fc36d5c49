import { tmpdir } from 'node:os';
import { backendOfKind } from '../backends/registry.js';
import type { DroverConfig } from '../config/schema.js';
import type { Runtime } from '../runtimes/runtime.js';
import { AppError } from '../shared/errors.js';
import { AGENT_KINDS, type AgentKind } from '../shared/schemas.js';

export interface BackendCheck {
  kind: AgentKind;
  available: boolean;
  command?: string;
  version?: string;
  problem?: string;
}

const VERSION_TIMEOUT_MS = 30_000;

/**
 * Finds out which backends this worker really has: the CLI starts and tells its version. Only those get a
 * queue, so a job is never handed to a worker that lacks its agent. Backends named in worker.backends
 * must be there; otherwise the worker refuses to start.
 */
export async function checkBackends(config: DroverConfig, runtime: Runtime, env: Record<string, string>): Promise<BackendCheck[]> {
  const wanted = config.worker.backends ?? AGENT_KINDS;
  const checks = await Promise.all(wanted.map((kind) => checkOne(kind, config, runtime, env)));
  const missing = checks.filter((c) => !c.available);
  if (config.worker.backends && missing.length > 0) {
    throw new AppError(
      'AgentCommandNotFound',
      `worker.backends asks for ${missing.map((m) => `${m.kind} (${m.problem})`).join(', ')}; install the CLI or change worker.backends`,
    );
  }
  return checks;
}

async function checkOne(kind: AgentKind, config: DroverConfig, runtime: Runtime, env: Record<string, string>): Promise<BackendCheck> {
  if (kind === 'command') return { kind, available: true };
  const backend = backendOfKind(kind);
  const command = config.agents[kind].command;
  let output = '';
  try {
    const result = await runtime.exec({
      argv: [command, ...backend.versionArgs],
      cwd: tmpdir(),
      env,
      hardTimeoutMs: VERSION_TIMEOUT_MS,
      onLine: (_stream, line) => {
        output += `${line}\n`;
      },
    });
    if (result.end !== 'exit' || result.exitCode !== 0) {
      return {
        kind,
        available: false,
        command,
        problem: `"${command} ${backend.versionArgs.join(' ')}" ended with ${result.end === 'exit' ? `exit ${result.exitCode}` : result.end}`,
      };
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      kind,
      available: false,
      command,
      problem: code === 'ENOENT' ? `${command} not found on PATH` : `${command}: ${code ?? (err as Error).message}`,
    };
  }
  const version = /\d+\.\d+\.\d+[\w.+-]*/.exec(output)?.[0] ?? output.trim().split('\n')[0] ?? 'unknown';
  return { kind, available: true, command, version };
}

export function describeChecks(checks: BackendCheck[]): string {
  return checks.map((c) => (c.available ? `${c.kind}${c.version ? ` ${c.version}` : ''}` : `${c.kind} missing (${c.problem})`)).join(', ');
}
