/**
 * Where a job's page in the Temporal UI is: the configured ui.url, or the UI of a `drover dev` on this data dir.
 * Nothing is guessed from the server's address: a cluster's UI is wherever its operators put it.
 */
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

export function uiBase(config: DroverConfig): string | undefined {
  return config.ui.url ?? devUiUrl(config);
}

export function jobUiUrl(config: DroverConfig, jobId: string): string | undefined {
  const base = uiBase(config);
  if (!base) return undefined;
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(jobId)}`;
}
