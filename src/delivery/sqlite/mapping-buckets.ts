import type { SeriesBucket } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';
import { readBuckets } from './series.ts';

/** The per-mapping cost buckets (src/server/mapping-stats.ts decides what they hold). */

export async function saveMappingBuckets(
  ctx: SqliteStoreContext,
  rows: SeriesBucket[],
  pruneBefore: Array<{ resolutionMs: number; before: number }>,
): Promise<void> {
  const plain = rows.map((r) => ({ ...r, data: JSON.stringify(r.data) }));
  await ctx.write.call('saveMappingBuckets', plain, pruneBefore);
}

export async function readMappingBuckets(ctx: SqliteStoreContext, resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]> {
  return readBuckets(ctx, 'mapping_buckets', resolutionMs, from, to);
}
