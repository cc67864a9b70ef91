import { pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/**
 * Whether a cart marker names an event still queued after a group (src/destination/cart-markers.ts).
 * Both events are found by the dedupe index (events_message), which covers every accepted event:
 * the query states its condition (`status <> 'rejected'`) so the partial index serves it.
 */
export async function pendingAfterInLane(ctx: PostgresStoreContext, destinationId: string, markers: string[], afterMessageId: string): Promise<string | null> {
  if (markers.length === 0) return null;
  const { rows } = await queryRetrying<{ marker: string }>(ctx.pool, {
    name: 'sd-pending-after-in-lane',
    text: `SELECT m.message_id AS marker FROM events g JOIN events m
             ON m.message_id = ANY($1::text[]) AND m.destination_id = g.destination_id AND m.status <> 'rejected'
           WHERE g.message_id = $2 AND g.destination_id = $3 AND g.status <> 'rejected'
             AND m.status = 'pending' AND m.lane_key = g.lane_key AND m.id > g.id
           LIMIT 1`,
    values: [markers.map(pgText), pgText(afterMessageId), destinationId],
  });
  const found = rows[0]?.marker;
  // The column holds the text as pgText wrote it: name the marker as the cart gave it.
  return found === undefined ? null : (markers.find((m) => pgText(m) === found) ?? found);
}
