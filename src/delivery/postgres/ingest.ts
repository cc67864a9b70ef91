import type { AppendResult, IngestBatch } from '../ingest.ts';
import type { PostgresStoreContext } from './context.ts';
import { PARKED_SQL } from './lane-parking.ts';

/** What ingest asks of the store: append a batch durably, and how far behind delivery is. */

/** Group-committed with the batches that arrive meanwhile (append.ts). */
export function append(ctx: PostgresStoreContext, batch: IngestBatch): Promise<AppendResult> {
  return ctx.appends.append(batch);
}

/**
 * Events not yet settled, across all destinations (cached briefly: asked on every ingest
 * request). Lanes with events are never parked, so the claim index's range finds them all.
 */
export async function backlog(ctx: PostgresStoreContext): Promise<number> {
  return ctx.backlogCache.get(async () => {
    const { rows } = await ctx.pool.query<{ n: number }>(`SELECT coalesce(sum(pending), 0)::bigint AS n FROM lanes WHERE next_run_at < ${PARKED_SQL} AND pending > 0`);
    return rows[0]!.n;
  });
}
