import type { SeriesBucket } from '../store.ts';
import type { PostgresStoreContext } from './context.ts';
import { readBuckets, saveBuckets } from './series.ts';

/** The per-mapping cost buckets (src/server/mapping-stats.ts decides what they hold): each process writes its own rows. */

export async function saveMappingBuckets(
  ctx: PostgresStoreContext,
  rows: SeriesBucket[],
  pruneBefore: Array<{ resolutionMs: number; before: number }>,
): Promise<void> {
  await saveBuckets(ctx, 'mapping_buckets', rows, pruneBefore);
}

export async function readMappingBuckets(ctx: PostgresStoreContext, resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]> {
  return readBuckets(ctx, 'mapping_buckets', resolutionMs, from, to);
}
