import type { Database, Statement } from 'better-sqlite3';
import { BUCKET_TABLES, type BucketTable } from '../../sql/bucket-table.ts';

/** The per-process buckets (charts, per-mapping costs), on the writer: each process replaces its own rows. */

export interface PlainSeriesBucket {
  resolutionMs: number;
  bucketStart: number;
  processId: string;
  /** JSON text. */
  data: string;
  updatedAt: number;
}

export function bucketWrites(db: Database) {
  const statements = new Map<BucketTable, { upsert: Statement; prune: Statement }>(
    BUCKET_TABLES.map((table) => [
      table,
      {
        upsert: db.prepare(
          `INSERT INTO ${table} (resolution_ms, bucket_start, process_id, data, updated_at)
           VALUES (@resolutionMs, @bucketStart, @processId, @data, @updatedAt)
           ON CONFLICT (resolution_ms, bucket_start, process_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
        ),
        prune: db.prepare(`DELETE FROM ${table} WHERE resolution_ms = ? AND bucket_start < ?`),
      },
    ]),
  );
  return {
    saveBuckets(table: BucketTable, rows: PlainSeriesBucket[], pruneBefore: Array<{ resolutionMs: number; before: number }>): void {
      const statement = statements.get(table);
      if (statement === undefined) throw new Error(`no bucket table ${String(table)}`);
      for (const row of rows) statement.upsert.run(row);
      for (const p of pruneBefore) statement.prune.run(p.resolutionMs, p.before);
    },
  };
}
