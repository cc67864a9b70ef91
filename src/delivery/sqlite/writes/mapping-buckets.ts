import type { Database } from 'better-sqlite3';
import type { PlainSeriesBucket } from './series.ts';

/** The per-mapping cost buckets, on the writer: each process replaces its own rows. */
export function mappingBucketWrites(db: Database) {
  const upsert = db.prepare(
    `INSERT INTO mapping_buckets (resolution_ms, bucket_start, process_id, data, updated_at)
     VALUES (@resolutionMs, @bucketStart, @processId, @data, @updatedAt)
     ON CONFLICT (resolution_ms, bucket_start, process_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
  );
  const prune = db.prepare('DELETE FROM mapping_buckets WHERE resolution_ms = ? AND bucket_start < ?');
  return {
    saveMappingBuckets(rows: PlainSeriesBucket[], pruneBefore: Array<{ resolutionMs: number; before: number }>): void {
      for (const row of rows) upsert.run(row);
      for (const p of pruneBefore) prune.run(p.resolutionMs, p.before);
    },
  };
}
