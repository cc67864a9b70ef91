import type { QueuedKinds } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';

/**
 * The unsettled events of a destination by (type, event name), for the backlog forecast. With
 * millions queued a full count reads every row, so at most `sample` rows are read: the oldest
 * and the newest halves through the status index (each a range of it in id order), and the
 * total comes from the lanes' counts.
 */
export async function queuedKinds(ctx: SqliteStoreContext, destinationId: string, sample: number): Promise<QueuedKinds> {
  const total = (ctx.read('SELECT coalesce(sum(pending), 0) AS n FROM lanes WHERE destination_id = ?').get(destinationId) as { n: number }).n;
  const half = Math.max(1, Math.ceil(sample / 2));
  const rows =
    total <= sample
      ? ctx
          .read(`SELECT type, event_name, count(*) AS n FROM events WHERE status IN ('pending', 'retrying') AND destination_id = ? GROUP BY type, event_name`)
          .all(destinationId)
      : ctx
          .read(
            `SELECT type, event_name, count(*) AS n FROM (
               SELECT * FROM (SELECT id, type, event_name FROM events WHERE status = 'pending' AND destination_id = ? ORDER BY id LIMIT ?)
               UNION
               SELECT * FROM (SELECT id, type, event_name FROM events WHERE status = 'pending' AND destination_id = ? ORDER BY id DESC LIMIT ?)
             ) GROUP BY type, event_name`,
          )
          .all(destinationId, half, destinationId, half);
  const kinds = (rows as Array<{ type: string | null; event_name: string | null; n: number }>).map((r) => ({ type: r.type, eventName: r.event_name, count: r.n }));
  return { total, kinds, sampled: total > sample };
}
