import type { SeriesBucket } from '../store.ts';
import type { BucketTable } from '../sql/bucket-table.ts';
import type { SqliteStoreContext } from './context.ts';

/** The charts' buckets (src/server/series-store.ts decides what they hold). */

export async function saveSeriesBuckets(
  ctx: SqliteStoreContext,
  rows: SeriesBucket[],
  pruneBefore: Array<{ resolutionMs: number; before: number }>,
): Promise<void> {
  await saveBuckets(ctx, 'series_buckets', rows, pruneBefore);
}

export async function saveBuckets(
  ctx: SqliteStoreContext,
  table: BucketTable,
  rows: SeriesBucket[],
  pruneBefore: Array<{ resolutionMs: number; before: number }>,
): Promise<void> {
  const plain = rows.map((r) => ({ ...r, data: JSON.stringify(r.data) }));
  await ctx.write.call('saveBuckets', table, plain, pruneBefore);
}

export async function readSeriesBuckets(ctx: SqliteStoreContext, resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]> {
  return readBuckets(ctx, 'series_buckets', resolutionMs, from, to);
}

export async function readBuckets(ctx: SqliteStoreContext, table: BucketTable, resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]> {
  const rows = ctx
    .read(
      `SELECT resolution_ms, bucket_start, process_id, data, updated_at FROM ${table}
       WHERE resolution_ms = ? AND bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start, process_id`,
    )
    .all(resolutionMs, from, to) as Array<{ resolution_ms: number; bucket_start: number; process_id: string; data: string; updated_at: number }>;
  return rows.map((r) => ({
    resolutionMs: r.resolution_ms,
    bucketStart: r.bucket_start,
    processId: r.process_id,
    data: JSON.parse(r.data) as unknown,
    updatedAt: r.updated_at,
  }));
}
