import type { SqliteStoreContext } from './context.ts';

/**
 * Whether a cart marker names an event still queued after a group (src/destination/cart-markers.ts).
 * Both events are found by the dedupe index (events_message), which covers every accepted event:
 * the query states its condition (`status <> 'rejected'`) so the partial index serves it.
 */
export const PENDING_AFTER = `SELECT 1 FROM events g JOIN events m
  ON m.message_id = ? AND m.destination_id = g.destination_id AND m.status <> 'rejected'
  WHERE g.message_id = ? AND g.destination_id = ? AND g.status <> 'rejected'
    AND m.status = 'pending' AND m.lane_key = g.lane_key AND m.id > g.id`;

export async function pendingAfterInLane(ctx: SqliteStoreContext, destinationId: string, markers: string[], afterMessageId: string): Promise<string | null> {
  const statement = ctx.read(PENDING_AFTER);
  for (const marker of markers) if (statement.get(marker, afterMessageId, destinationId) !== undefined) return marker;
  return null;
}
