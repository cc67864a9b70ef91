import type { SeriesBucket } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';
import { readBuckets, saveBuckets } from './series.ts';

/** The per-mapping cost buckets (src/server/mapping-stats.ts decides what they hold). */

export async function saveMappingBuckets(
  ctx: SqliteStoreContext,
  rows: SeriesBucket[],
  pruneBefore: Array<{ resolutionMs: number; before: number }>,
): Promise<void> {
  await saveBuckets(ctx, 'mapping_buckets', rows, pruneBefore);
}

export async function readMappingBuckets(ctx: SqliteStoreContext, resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]> {
  return readBuckets(ctx, 'mapping_buckets', resolutionMs, from, to);
}
