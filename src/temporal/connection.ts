/**
 * One way to reach Temporal for the client, the worker and every command: the address, TLS (system roots, a CA,
 * mTLS) and an API key, named as the Temporal CLI names them.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow/tls-config.js';
import type { TemporalConfig } from '../config/schema.js';
import { AppError } from '../shared/errors.js';

export interface ConnectionSettings {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/** TLS is on when asked for, when any TLS file is given, or with an API key (Temporal Cloud takes keys only over TLS). */
export function tlsEnabled(temporal: TemporalConfig): boolean {
  const { tls } = temporal;
  if (tls.enabled !== undefined) return tls.enabled;
  return Boolean(tls.ca || tls.cert || tls.serverName || temporal.apiKey);
}

/** The SDK's connection options; TLS files are read here, so a missing one is a config error, not a hang. */
export function connectionSettings(temporal: TemporalConfig): ConnectionSettings {
  const out: ConnectionSettings = { address: temporal.address };
  if (temporal.apiKey) out.apiKey = temporal.apiKey;
  if (!tlsEnabled(temporal)) {
    if (temporal.apiKey) throw new AppError('ConfigInvalid', 'TEMPORAL_API_KEY with TEMPORAL_TLS=false would send the key in the clear');
    return out;
  }
  const { ca, cert, key, serverName } = temporal.tls;
  const tls: TLSConfig = {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(ca ? { serverRootCACertificate: readTlsFile('temporal.tls.ca (TEMPORAL_TLS_CA)', ca) } : {}),
    ...(cert && key
      ? {
          clientCertPair: {
            crt: readTlsFile('temporal.tls.cert (TEMPORAL_TLS_CERT)', cert),
            key: readTlsFile('temporal.tls.key (TEMPORAL_TLS_KEY)', key),
          },
        }
      : {}),
  };
  out.tls = Object.keys(tls).length ? tls : true;
  return out;
}

function readTlsFile(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new AppError(
      'ConfigInvalid',
      `${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/**
 * One line for a connection that failed: the address, the first line of gRPC's reason, and what to check. A TLS
 * mismatch shows up as a dropped connection, a handshake error or a timeout, which say little by themselves.
 */
export function unreachable(temporal: TemporalConfig, err: unknown, hint = ''): AppError {
  const reason = ((err as Error)?.message ?? String(err)).split('\n')[0] ?? '';
  const tlsHint = tlsEnabled(temporal)
    ? 'check TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME and the client certificate'
    : 'if the server uses TLS, set TEMPORAL_TLS=true or TEMPORAL_TLS_CA';
  // Nothing listening is the one failure TLS settings cannot explain.
  const refused = /ECONNREFUSED|connection refused/i.test(reason);
  const what = refused ? hint || 'is the server running?' : tlsHint;
  return new AppError('ServerUnavailable', `cannot reach Temporal at ${temporal.address} (${reason}); ${what}`);
}
