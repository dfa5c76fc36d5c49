import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_NAMES } from '../shared/search-attributes.js';

const RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * Registers Drover's search attributes and sets retention to 7 days. Works on a new db and on an existing one
 * (the dev server's --search-attribute flag only takes effect when it creates the db).
 */
export async function ensureNamespaceSetup(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !(name in (existing.customAttributes ?? {})));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((name) => [name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  }
  const ns = await connection.workflowService.describeNamespace({ namespace });
  const retention = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (retention < RETENTION_SECONDS) {
    await connection.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs(RETENTION_SECONDS * 1000) },
    });
  }
}
