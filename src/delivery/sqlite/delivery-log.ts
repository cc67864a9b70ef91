import { pageOf, pageRange } from '../sql/event-query.ts';
import { eventColumns, TEXT_JSON_ROWS, type AttemptRow, type EventRow } from '../sql/rows.ts';
import type { DestinationBacklog, EventDetail, EventPage, EventQuery } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';
import { selectEvents } from './event-select.ts';

/** What the console, admin API and metrics read: backlogs, searches, one event with its attempts. */

export async function backlogByDestination(ctx: SqliteStoreContext): Promise<DestinationBacklog[]> {
  const now = ctx.clock.now();
  const ids = (ctx.read('SELECT id FROM destinations ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  const unsettledOf = ctx.read('SELECT coalesce(sum(pending), 0) AS n FROM lanes WHERE destination_id = ?');
  const countStatus = ctx.read('SELECT count(*) AS n FROM events WHERE status = ? AND destination_id = ?');
  const oldestWithStatus = ctx.read('SELECT received_at FROM events WHERE status = ? AND destination_id = ? ORDER BY id LIMIT 1');
  return ids.map((destinationId) => {
    const unsettled = (unsettledOf.get(destinationId) as { n: number }).n;
    const retrying = (countStatus.get('retrying', destinationId) as { n: number }).n;
    const failed = (countStatus.get('failed', destinationId) as { n: number }).n;
    const oldest = ['pending', 'retrying']
      .map((status) => oldestWithStatus.get(status, destinationId) as { received_at: number } | undefined)
      .filter((r): r is { received_at: number } => r !== undefined)
      .map((r) => r.received_at);
    const oldestUnsettledAgeMs = oldest.length === 0 ? null : Math.max(0, now - Math.min(...oldest));
    return { destinationId, unsettled, retrying, failed, oldestUnsettledAgeMs };
  });
}

export async function search(ctx: SqliteStoreContext, query: EventQuery): Promise<EventPage> {
  const range = pageRange(query);
  return pageOf(selectEvents(ctx, query, range), range, (row) => TEXT_JSON_ROWS.event(row));
}

export async function getEvent(ctx: SqliteStoreContext, id: number): Promise<EventDetail | null> {
  const row = ctx.read(`SELECT ${eventColumns()} FROM events WHERE id = ?`).get(id) as EventRow<string> | undefined;
  if (!row) return null;
  const attempts = ctx.read('SELECT * FROM attempts WHERE event_id = ? ORDER BY id').all(id) as Array<AttemptRow<string>>;
  return { event: TEXT_JSON_ROWS.event(row), attempts: attempts.map((a) => TEXT_JSON_ROWS.attempt(a)) };
}
