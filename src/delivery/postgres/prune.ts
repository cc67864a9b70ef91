import { PRUNE_SCAN_SLACK_MS, pruneStatuses, WORK_BATCH } from '../sql/event-query.ts';
import type { PruneOptions } from '../store.ts';
import { queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** Retention: old final events go in batches, then lanes with nothing queued. */
export async function prune(ctx: PostgresStoreContext, options: PruneOptions): Promise<number> {
  const cutoff = options.olderThan.getTime();
  const statuses = pruneStatuses(options);
  const batchSize = options.batchSize ?? WORK_BATCH;
  let cursor = 0;
  let total = 0;
  // Walk the primary key in id (≈ arrival) order; each batch is one short statement.
  for (;;) {
    const { rows } = await queryRetrying<{ last_id: number | null; deleted: number; past: boolean }>(ctx.pool, {
      text: `WITH scan AS (
               SELECT id, received_at FROM events WHERE id > $1 ORDER BY id LIMIT $2
             ), gone AS (
               DELETE FROM events e WHERE e.id IN (SELECT id FROM scan WHERE received_at < $3) AND e.status = ANY($4::text[])
               RETURNING e.id
             ), gone_attempts AS (
               DELETE FROM attempts WHERE event_id IN (SELECT id FROM gone)
             )
             SELECT (SELECT max(id) FROM scan) AS last_id,
                    (SELECT count(*)::int FROM gone) AS deleted,
                    coalesce((SELECT bool_or(received_at >= $5) FROM scan), false) AS past`,
      values: [cursor, batchSize, cutoff, statuses, cutoff + PRUNE_SCAN_SLACK_MS],
    });
    const row = rows[0]!;
    if (row.last_id === null) break;
    cursor = row.last_id;
    total += row.deleted;
    if (row.past) break;
  }
  // Lanes with nothing queued: the next event of that user recreates its row.
  for (;;) {
    const { rowCount } = await queryRetrying(ctx.pool, {
      text: `DELETE FROM lanes l USING (
               SELECT destination_id, lane_key FROM lanes
               WHERE pending = 0 AND (leased_by IS NULL OR lease_until <= $1)
               LIMIT $2 FOR UPDATE SKIP LOCKED
             ) idle
             WHERE l.destination_id = idle.destination_id AND l.lane_key = idle.lane_key`,
      values: [ctx.clock.now(), batchSize],
    });
    if ((rowCount ?? 0) < batchSize) break;
  }
  return total;
}
