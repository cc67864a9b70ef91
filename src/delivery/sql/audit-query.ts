import type { AuditQuery } from '../store.ts';
import type { Placeholder } from './event-query.ts';

/** The audit log's page query, the same SQL in both stores but for placeholders. */

const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;
/** Audit records deleted per statement by retention. */
export const AUDIT_PRUNE_BATCH = 1000;

/** Newest first, one more row than the page shows (to know whether another follows). */
export function auditSelect(query: AuditQuery, param: Placeholder): { sql: string; limit: number } {
  const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE), MAX_PAGE);
  const clauses: string[] = [];
  if (query.action !== undefined) clauses.push(`action = ${param(query.action)}`);
  if (query.beforeId !== undefined) clauses.push(`id < ${param(query.beforeId)}`);
  const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
  return { sql: `SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT ${param(limit + 1)}`, limit };
}

export function auditPageOf<R, T extends { id: number }>(rows: R[], limit: number, toRecord: (row: R) => T): { records: T[]; nextBeforeId: number | null } {
  const records = rows.slice(0, limit).map(toRecord);
  return { records, nextBeforeId: rows.length > limit ? records[records.length - 1]!.id : null };
}

