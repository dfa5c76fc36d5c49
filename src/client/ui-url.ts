/** Where a job's page in the Temporal UI is: the configured UI, a `drover dev` on this data dir, or the usual port. */
import { readFileSync } from 'node:fs';
import { dataPaths } from '../config/paths.js';
import type { DroverConfig } from '../config/schema.js';

/** The UI of a `drover dev` running on this data dir and address, if there is one. */
export function devUiUrl(config: DroverConfig): string | undefined {
  try {
    const dev = JSON.parse(readFileSync(dataPaths(config.dataDir).devEndpoint(), 'utf8')) as { address?: string; uiUrl?: string };
    return dev.address === config.temporal.address ? dev.uiUrl : undefined;
  } catch {
    return undefined;
  }
}

export function defaultUiUrl(address: string): string {
  const [host = '127.0.0.1', port = '7233'] = address.split(':');
  const uiHost = host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host;
  return `http://${uiHost}:${Number(port) + 1000}`;
}
