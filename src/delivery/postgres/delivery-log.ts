import { pageOf, pageRange } from '../sql/event-query.ts';
import { eventColumns, PARSED_JSON_ROWS, type AttemptRow, type EventRow } from '../sql/rows.ts';
import type { DestinationBacklog, EventDetail, EventPage, EventQuery } from '../store.ts';
import type { PostgresStoreContext } from './context.ts';
import { selectEvents } from './event-select.ts';

/** What the console, admin API and metrics read: backlogs, searches, one event with its attempts. */

export async function backlogByDestination(ctx: PostgresStoreContext): Promise<DestinationBacklog[]> {
  const now = ctx.clock.now();
  const { rows } = await ctx.pool.query<{ destination_id: string; unsettled: number; retrying: number; failed: number; oldest: number | null }>(
    `SELECT ids.id AS destination_id,
       (SELECT coalesce(sum(pending), 0)::bigint FROM lanes WHERE destination_id = ids.id) AS unsettled,
       (SELECT count(*) FROM events WHERE status = 'retrying' AND destination_id = ids.id) AS retrying,
       (SELECT count(*) FROM events WHERE status = 'failed' AND destination_id = ids.id) AS failed,
       least((SELECT received_at FROM events WHERE status = 'pending' AND destination_id = ids.id ORDER BY id LIMIT 1),
             (SELECT received_at FROM events WHERE status = 'retrying' AND destination_id = ids.id ORDER BY id LIMIT 1)) AS oldest
     FROM (SELECT id FROM destinations UNION SELECT DISTINCT destination_id FROM lanes) AS ids
     ORDER BY ids.id`,
  );
  return rows.map((r) => ({
    destinationId: r.destination_id,
    unsettled: r.unsettled,
    retrying: r.retrying,
    failed: r.failed,
    oldestUnsettledAgeMs: r.oldest === null ? null : Math.max(0, now - r.oldest),
  }));
}

export async function search(ctx: PostgresStoreContext, query: EventQuery): Promise<EventPage> {
  const range = pageRange(query);
  return pageOf(await selectEvents(ctx.pool, query, range), range, (row) => PARSED_JSON_ROWS.event(row));
}

export async function getEvent(ctx: PostgresStoreContext, id: number): Promise<EventDetail | null> {
  const { rows } = await ctx.pool.query<EventRow<unknown>>(`SELECT ${eventColumns()} FROM events WHERE id = $1`, [id]);
  if (!rows[0]) return null;
  const attempts = await ctx.pool.query<AttemptRow<unknown>>('SELECT * FROM attempts WHERE event_id = $1 ORDER BY id', [id]);
  return { event: PARSED_JSON_ROWS.event(rows[0]), attempts: attempts.rows.map((a) => PARSED_JSON_ROWS.attempt(a)) };
}
