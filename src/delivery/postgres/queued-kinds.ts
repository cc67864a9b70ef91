import type { QueuedKinds } from '../store.ts';
import type { PostgresStoreContext } from './context.ts';

/**
 * The unsettled events of a destination by (type, event name), for the backlog forecast. With
 * millions queued a full count reads every row, so at most `sample` rows are read: the oldest
 * and the newest halves through the status index, and the total comes from the lanes' counts.
 */
export async function queuedKinds(ctx: PostgresStoreContext, destinationId: string, sample: number): Promise<QueuedKinds> {
  const totals = await ctx.pool.query<{ n: string }>('SELECT coalesce(sum(pending), 0)::bigint AS n FROM lanes WHERE destination_id = $1', [destinationId]);
  const total = Number(totals.rows[0]?.n ?? 0);
  const half = Math.max(1, Math.ceil(sample / 2));
  const { rows } =
    total <= sample
      ? await ctx.pool.query<{ type: string | null; event_name: string | null; n: string }>(
          `SELECT type, event_name, count(*) AS n FROM events WHERE status IN ('pending', 'retrying') AND destination_id = $1 GROUP BY type, event_name`,
          [destinationId],
        )
      : await ctx.pool.query<{ type: string | null; event_name: string | null; n: string }>(
          `SELECT type, event_name, count(*) AS n FROM (
             (SELECT id, type, event_name FROM events WHERE status = 'pending' AND destination_id = $1 ORDER BY id LIMIT $2)
             UNION
             (SELECT id, type, event_name FROM events WHERE status = 'pending' AND destination_id = $1 ORDER BY id DESC LIMIT $2)
           ) AS s GROUP BY type, event_name`,
          [destinationId, half],
        );
  return { total, kinds: rows.map((r) => ({ type: r.type, eventName: r.event_name, count: Number(r.n) })), sampled: total > sample };
}
