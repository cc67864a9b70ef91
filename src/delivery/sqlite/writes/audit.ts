import type { Database } from 'better-sqlite3';
import type { AuditRow } from '../../sql/rows.ts';
import type { AuditRecordInput } from '../../store.ts';

/** The audit log's writes. */

export function auditWrites(db: Database) {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, action, actor, channel, source, target, filter, count, detail)
     VALUES (@at, @action, @actor, @channel, @source, @target, @filter, @count, @detail) RETURNING *`,
  );
  const pruneBatch = db.prepare('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? LIMIT ?)');
  return {
    recordAudit(input: AuditRecordInput, at: number): AuditRow<string> {
      return insert.get({ ...input, at, filter: input.filter === null ? null : JSON.stringify(input.filter) }) as AuditRow<string>;
    },

    pruneAudit(before: number, limit: number): number {
      return pruneBatch.run(before, limit).changes;
    },
  };
}
