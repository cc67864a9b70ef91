import type { PoolClient } from 'pg';
import { WORK_BATCH } from '../sql/event-query.ts';
import type { DeadLetterSelector } from '../store.ts';
import { inTransaction } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';
import { selectEvents } from './event-select.ts';

/**
 * Dead letters (status `failed`) retried or dropped by an operator: a batch per transaction,
 * found and changed in it, until a batch changes nothing.
 */

export function retryDeadLetters(ctx: PostgresStoreContext, selector: DeadLetterSelector): Promise<number> {
  const retry = async (client: PoolClient, ids: number[]): Promise<number> => {
    const now = ctx.clock.now();
    const { rows } = await client.query<{ destination_id: string; lane_key: string; n: number }>(
      `WITH r AS (
         UPDATE events SET status = 'pending', next_attempt_at = $2, first_attempt_at = NULL, settled_at = NULL, updated_at = $2
         WHERE id = ANY($1::bigint[]) AND status = 'failed'
         RETURNING destination_id, lane_key
       )
       SELECT destination_id, lane_key, count(*)::int AS n FROM r GROUP BY 1, 2`,
      [ids, now],
    );
    if (rows.length === 0) return 0;
    await client.query(
      // A retried dead letter is older than anything queued behind it: due now, lease permitting.
      `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at)
       SELECT d, l, c, $4 FROM unnest($1::text[], $2::text[], $3::int[]) AS x(d, l, c)
       ORDER BY d COLLATE "C", l COLLATE "C"
       ON CONFLICT (destination_id, lane_key) DO UPDATE SET
         pending = lanes.pending + excluded.pending,
         next_run_at = CASE WHEN lanes.leased_by IS NULL OR lanes.lease_until <= $4 THEN $4 ELSE lanes.next_run_at END`,
      [rows.map((r) => r.destination_id), rows.map((r) => r.lane_key), rows.map((r) => r.n), now],
    );
    return rows.reduce((sum, r) => sum + r.n, 0);
  };
  return inBatches(ctx, selector, retry, () => {
    ctx.backlogCache.forget();
    ctx.announce();
  });
}

/** Marked `dropped` (kept, with their attempts, until retention prunes them). */
export function dropDeadLetters(ctx: PostgresStoreContext, selector: DeadLetterSelector, droppedBy: string): Promise<number> {
  const drop = async (client: PoolClient, ids: number[]): Promise<number> => {
    const now = ctx.clock.now();
    const { rowCount } = await client.query(
      `UPDATE events SET status = 'dropped', dropped_by = $2, dropped_at = $3, updated_at = $3
       WHERE id = ANY($1::bigint[]) AND status = 'failed'`,
      [ids, droppedBy, now],
    );
    return rowCount ?? 0;
  };
  return inBatches(ctx, selector, drop, () => {});
}

/** `change` on a batch of the selected dead letters per transaction, until it changes none. */
async function inBatches(
  ctx: PostgresStoreContext,
  selector: DeadLetterSelector,
  change: (client: PoolClient, ids: number[]) => Promise<number>,
  afterCommit: () => void,
): Promise<number> {
  let total = 0;
  for (;;) {
    const changed = await inTransaction(ctx.pool, async (client) => {
      const ids = await deadLetterBatch(client, selector);
      return ids.length === 0 ? 0 : change(client, ids);
    });
    if (changed > 0) afterCommit();
    total += changed;
    if (changed === 0 || 'ids' in selector) return total;
  }
}

/** The oldest dead letters a selector covers, a batch of them. */
async function deadLetterBatch(client: PoolClient, selector: DeadLetterSelector): Promise<number[]> {
  if ('ids' in selector) return selector.ids;
  const rows = await selectEvents(client, { ...selector.filter, status: 'failed' }, { ascending: true, limit: WORK_BATCH });
  return rows.map((r) => r.id);
}
