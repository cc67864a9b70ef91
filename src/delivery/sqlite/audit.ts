import { AUDIT_PRUNE_BATCH, auditPageOf, auditSelect } from '../sql/audit-query.ts';
import { TEXT_JSON_ROWS, type AuditRow } from '../sql/rows.ts';
import type { AuditPage, AuditQuery, AuditRecord, AuditRecordInput } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';

/** The audit log: who did what in the console, the admin API or the CLI. */

export async function recordAudit(ctx: SqliteStoreContext, input: AuditRecordInput): Promise<AuditRecord> {
  return TEXT_JSON_ROWS.audit(await ctx.write.call('recordAudit', input, ctx.clock.now()));
}

export async function listAudit(ctx: SqliteStoreContext, query: AuditQuery): Promise<AuditPage> {
  const values: Record<string, unknown> = {};
  const { sql, limit } = auditSelect(query, (value) => {
    const name = `p${Object.keys(values).length}`;
    values[name] = value;
    return `@${name}`;
  });
  const rows = ctx.read(sql).all(values) as Array<AuditRow<string>>;
  return auditPageOf(rows, limit, (row) => TEXT_JSON_ROWS.audit(row));
}

export async function pruneAudit(ctx: SqliteStoreContext, olderThan: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await ctx.write.call('pruneAudit', olderThan.getTime(), AUDIT_PRUNE_BATCH);
    total += deleted;
    if (deleted < AUDIT_PRUNE_BATCH) return total;
  }
}
