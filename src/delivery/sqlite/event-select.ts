import { eventSelects, filterClauses, mergeEvents, SQLITE_NAME_KEY, UNSETTLED, type EventRange, type Placeholder } from '../sql/event-query.ts';
import { eventColumns, TEXT_JSON_ROWS, type EventRow } from '../sql/rows.ts';
import type { EventFilter, LaneRef, QueuedEvent } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';

/** How far out of arrival order an id may be (batches commit a few ms after they are received). */
const ID_TIME_SLACK_MS = 60_000;

/** The events a filter selects within a range (searches, and batches of dead letters). */
export function selectEvents(ctx: SqliteStoreContext, filter: EventFilter, range: EventRange): Array<EventRow<string>> {
  const params: Record<string, unknown> = {};
  const param: Placeholder = (value) => {
    const name = `p${Object.keys(params).length}`;
    params[name] = value;
    return `@${name}`;
  };
  const clauses = filterClauses(filter, param, SQLITE_NAME_KEY);
  if (clauses === null) return [];
  // Ids follow arrival, so a time range is also an id range (give or take the slack): the
  // search walks only that stretch of the primary key instead of the whole table.
  if (filter.receivedFrom !== undefined) {
    const fromId = firstIdReceivedAtOrAfter(ctx, filter.receivedFrom.getTime() - ID_TIME_SLACK_MS);
    if (fromId === null) return [];
    clauses.push(`id >= ${param(fromId)}`);
  }
  if (filter.receivedTo !== undefined) {
    const toId = firstIdReceivedAtOrAfter(ctx, filter.receivedTo.getTime() + ID_TIME_SLACK_MS);
    if (toId !== null) clauses.push(`id < ${param(toId)}`);
  }
  const rows = eventSelects(filter, clauses, range, param, true).flatMap((sql) => ctx.read(sql).all(params) as Array<EventRow<string>>);
  return mergeEvents(rows, range);
}

/** Binary search over the primary key for the first event received at or after `ms`. */
function firstIdReceivedAtOrAfter(ctx: SqliteStoreContext, ms: number): number | null {
  const bounds = ctx.read('SELECT min(id) AS lo, max(id) AS hi FROM events').get() as { lo: number | null; hi: number | null };
  if (bounds.lo === null || bounds.hi === null) return null;
  const rowAtOrAfter = ctx.read('SELECT id, received_at FROM events WHERE id >= ? ORDER BY id LIMIT 1');
  let lo = bounds.lo;
  let hi = bounds.hi + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    // The first existing row at or after mid (ids have gaps after deletes).
    const row = rowAtOrAfter.get(mid) as { id: number; received_at: number } | undefined;
    if (!row || row.received_at >= ms) hi = mid;
    else lo = row.id + 1;
  }
  // lo only ever lands on a row at or after `ms`, or past the last row.
  const first = rowAtOrAfter.get(lo) as { id: number } | undefined;
  return first?.id ?? null;
}

/** A lane's oldest unsettled events (exported for the index test). */
export const WINDOW = `SELECT ${eventColumns()} FROM events WHERE lane_key = @laneKey AND destination_id = @destinationId AND ${UNSETTLED}
  ORDER BY id LIMIT @limit`;

/** The lane's oldest unsettled events, up to `limit`. */
export function laneWindow(ctx: SqliteStoreContext, lane: LaneRef, limit: number): QueuedEvent[] {
  const rows = ctx.read(WINDOW).all({ destinationId: lane.destinationId, laneKey: lane.laneKey, limit: Math.max(1, limit) }) as Array<EventRow<string>>;
  return rows.map((row) => TEXT_JSON_ROWS.event(row) as QueuedEvent);
}
