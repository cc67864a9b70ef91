import type { SeriesBucket } from '../store.ts';
import { inTransaction } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';
import type { BucketTable } from '../sql/bucket-table.ts';

/** The charts' buckets (src/server/series-store.ts decides what they hold): each process writes its own rows. */


export async function saveSeriesBuckets(
  ctx: PostgresStoreContext,
  rows: SeriesBucket[],
  pruneBefore: Array<{ resolutionMs: number; before: number }>,
): Promise<void> {
  await saveBuckets(ctx, 'series_buckets', rows, pruneBefore);
}

export async function readSeriesBuckets(ctx: PostgresStoreContext, resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]> {
  return readBuckets(ctx, 'series_buckets', resolutionMs, from, to);
}

export async function saveBuckets(
  ctx: PostgresStoreContext,
  table: BucketTable,
  rows: SeriesBucket[],
  pruneBefore: Array<{ resolutionMs: number; before: number }>,
): Promise<void> {
  await inTransaction(ctx.pool, async (client) => {
    if (rows.length > 0) {
      await client.query(
        `INSERT INTO ${table} (resolution_ms, bucket_start, process_id, data, updated_at)
         SELECT r, b, p, d::json, u FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS x(r, b, p, d, u)
         ON CONFLICT (resolution_ms, bucket_start, process_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
        [rows.map((r) => r.resolutionMs), rows.map((r) => r.bucketStart), rows.map((r) => r.processId), rows.map((r) => JSON.stringify(r.data)), rows.map((r) => r.updatedAt)],
      );
    }
    for (const p of pruneBefore) {
      await client.query(`DELETE FROM ${table} WHERE resolution_ms = $1 AND bucket_start < $2`, [p.resolutionMs, p.before]);
    }
  });
}

export async function readBuckets(ctx: PostgresStoreContext, table: BucketTable, resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]> {
  const { rows } = await ctx.pool.query<{ resolution_ms: string | number; bucket_start: string | number; process_id: string; data: unknown; updated_at: string | number }>(
    `SELECT resolution_ms, bucket_start, process_id, data, updated_at FROM ${table}
     WHERE resolution_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 ORDER BY bucket_start, process_id`,
    [resolutionMs, from, to],
  );
  return rows.map((r) => ({
    resolutionMs: Number(r.resolution_ms),
    bucketStart: Number(r.bucket_start),
    processId: r.process_id,
    data: r.data,
    updatedAt: Number(r.updated_at),
  }));
}
