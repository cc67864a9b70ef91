import { AUDIT_PRUNE_BATCH, auditPageOf, auditSelect } from '../sql/audit-query.ts';
import { PARSED_JSON_ROWS, type AuditRow } from '../sql/rows.ts';
import type { AuditPage, AuditQuery, AuditRecord, AuditRecordInput } from '../store.ts';
import { pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** The audit log: who did what in the console, the admin API or the CLI, for every process. */

export async function recordAudit(ctx: PostgresStoreContext, input: AuditRecordInput): Promise<AuditRecord> {
  const { rows } = await queryRetrying<AuditRow<unknown>>(ctx.pool, {
    name: 'sd-record-audit',
    text: `INSERT INTO audit_log (at, action, actor, channel, source, target, filter, count, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    values: [
      ctx.clock.now(),
      pgText(input.action),
      pgText(input.actor),
      pgText(input.channel),
      pgText(input.source),
      pgText(input.target),
      input.filter === null ? null : JSON.stringify(input.filter),
      input.count,
      pgText(input.detail),
    ],
  });
  return PARSED_JSON_ROWS.audit(rows[0]!);
}

export async function listAudit(ctx: PostgresStoreContext, query: AuditQuery): Promise<AuditPage> {
  const values: unknown[] = [];
  const { sql, limit } = auditSelect(query, (value) => {
    values.push(value);
    return `$${values.length}`;
  });
  const { rows } = await queryRetrying<AuditRow<unknown>>(ctx.pool, { text: sql, values });
  return auditPageOf(rows, limit, (row) => PARSED_JSON_ROWS.audit(row));
}

export async function pruneAudit(ctx: PostgresStoreContext, olderThan: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await queryRetrying(ctx.pool, {
      text: 'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 LIMIT $2)',
      values: [olderThan.getTime(), AUDIT_PRUNE_BATCH],
    });
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < AUDIT_PRUNE_BATCH) return total;
  }
}
