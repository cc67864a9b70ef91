import { PRUNE_SCAN_SLACK_MS, pruneStatuses, WORK_BATCH } from '../sql/event-query.ts';
import type { EventStatus, PruneOptions } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';

/** Retention: old final events go in batches, then lanes with nothing queued. */

export async function prune(ctx: SqliteStoreContext, options: PruneOptions): Promise<number> {
  const cutoff = options.olderThan.getTime();
  const statuses = pruneStatuses(options);
  const batchSize = options.batchSize ?? WORK_BATCH;
  const scan = ctx.read('SELECT id, received_at, status FROM events WHERE id > ? ORDER BY id LIMIT ?');
  let cursor = 0;
  let total = 0;
  // Walk the primary key in id (≈ arrival) order, one short transaction per batch.
  for (;;) {
    const rows = scan.all(cursor, batchSize) as Array<{ id: number; received_at: number; status: EventStatus }>;
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1]!.id;
    const doomed = rows.filter((r) => r.received_at < cutoff && statuses.includes(r.status)).map((r) => r.id);
    // The writer deletes only rows still in those states (a dead letter retried meanwhile stays).
    if (doomed.length > 0) total += await ctx.write.call('deleteEventsWithStatus', doomed, statuses);
    if (rows.some((r) => r.received_at >= cutoff + PRUNE_SCAN_SLACK_MS)) break;
  }
  // Lanes with nothing queued: the next event of that user recreates its row.
  while ((await ctx.write.call('deleteIdleLanes', ctx.clock.now(), batchSize)) >= batchSize);
  return total;
}
