/**
 * What a namespace needs before Drover jobs can start on it: the namespace itself, Drover's search attributes
 * (a job cannot start without them) and, for `drover setup` and `drover dev`, a retention long enough to read
 * finished jobs. Every step is idempotent, so any worker or operator may run it again.
 */
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { setTimeout as delay } from 'node:timers/promises';
import { SEARCH_ATTRIBUTE_NAMES } from '../shared/search-attributes.js';

const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;
const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/** The services of either connection type (the client's Connection or the worker's NativeConnection). */
export interface ServiceConnection {
  workflowService: proto.temporal.api.workflowservice.v1.WorkflowService;
  operatorService: proto.temporal.api.operatorservice.v1.OperatorService;
}

export interface SetupOptions {
  /** Register the namespace when it does not exist (needs an operator's rights). */
  create?: boolean;
  /** Raise the namespace's retention to at least this many seconds; leave it alone when absent. */
  minRetentionSeconds?: number;
}

export interface SetupReport {
  namespace: string;
  created: boolean;
  searchAttributesAdded: string[];
  retentionDays: number;
}

export async function ensureNamespaceSetup(
  connection: ServiceConnection,
  namespace: string,
  opts: SetupOptions = { create: true, minRetentionSeconds: DEFAULT_RETENTION_SECONDS },
): Promise<SetupReport> {
  const created = opts.create ? await createIfMissing(connection, namespace, opts.minRetentionSeconds) : false;
  const searchAttributesAdded = await addMissingAttributes(connection, namespace, created);
  let retention = await retentionSeconds(connection, namespace);
  if (opts.minRetentionSeconds !== undefined && retention < opts.minRetentionSeconds) {
    await connection.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs(opts.minRetentionSeconds * 1000) },
    });
    retention = opts.minRetentionSeconds;
  }
  return { namespace, created, searchAttributesAdded, retentionDays: Math.round((retention / 86_400) * 10) / 10 };
}

async function createIfMissing(connection: ServiceConnection, namespace: string, retention = DEFAULT_RETENTION_SECONDS): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (err) {
    if (grpcCode(err) !== NOT_FOUND) throw err;
  }
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(retention * 1000) });
  } catch (err) {
    if (grpcCode(err) !== ALREADY_EXISTS) throw err;
    return false;
  }
  return true;
}

/** A new namespace reaches the frontend's caches a few seconds after it is registered: retry NotFound for a while. */
async function addMissingAttributes(connection: ServiceConnection, namespace: string, fresh: boolean): Promise<string[]> {
  const deadline = Date.now() + (fresh ? 60_000 : 0);
  for (;;) {
    try {
      const existing = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !(name in (existing.customAttributes ?? {})));
      if (missing.length > 0) {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
        });
      }
      return missing;
    } catch (err) {
      if (grpcCode(err) !== NOT_FOUND || Date.now() > deadline) throw err;
      await delay(500);
    }
  }
}

async function retentionSeconds(connection: ServiceConnection, namespace: string): Promise<number> {
  const ns = await connection.workflowService.describeNamespace({ namespace });
  return Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
}

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
export const PERMISSION_DENIED = 7;
export const grpcCode = (err: unknown): number | undefined => (err as { code?: number })?.code;
