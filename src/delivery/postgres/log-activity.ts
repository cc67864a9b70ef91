import { POSTGRES_NAME_KEY, type Placeholder } from '../sql/event-query.ts';
import { activityOf, activitySql, deadLetterReasonsSql, reasonOf, type ReasonRow } from '../sql/log-reads.ts';
import { eventColumns, PARSED_JSON_ROWS, type AttemptRow, type EventRow } from '../sql/rows.ts';
import type { ActivityCursor, DeadLetterReason, EventFilter, LogActivity } from '../store.ts';
import { pgText } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** The console's reads of the log: dead letters by reason, and the live view's activity. */

function positional(): { values: unknown[]; param: Placeholder } {
  const values: unknown[] = [];
  return {
    values,
    param: (value) => {
      values.push(typeof value === 'string' ? pgText(value) : value);
      return `$${values.length}`;
    },
  };
}

export async function deadLetterReasons(ctx: PostgresStoreContext, filter: Omit<EventFilter, 'status'>): Promise<DeadLetterReason[]> {
  const { values, param } = positional();
  const sql = deadLetterReasonsSql(filter, param, POSTGRES_NAME_KEY);
  if (sql === null) return [];
  const { rows } = await ctx.pool.query<ReasonRow>(sql, values);
  return rows.map(reasonOf);
}

/**
 * Ids are handed out before commit, so a transaction may commit an event below the cursor after a
 * later one was read: the live view can miss it (the delivery log has it). docs/console.md says so.
 */
export async function recentActivity(ctx: PostgresStoreContext, after: ActivityCursor | null, limit: number): Promise<LogActivity> {
  const e = positional();
  const a = positional();
  const events = await ctx.pool.query<EventRow<unknown>>(activitySql('events', after, e.param, limit), e.values);
  const attempts = await ctx.pool.query<AttemptRow<unknown> & { id: number }>(activitySql('attempts', after, a.param, limit), a.values);
  const have = new Set(events.rows.map((r) => r.id));
  const missing = [...new Set(attempts.rows.map((r) => r.event_id))].filter((id) => !have.has(id));
  const attemptEvents = missing.length === 0 ? [] : (await ctx.pool.query<EventRow<unknown>>(`SELECT ${eventColumns()} FROM events WHERE id = ANY($1::bigint[])`, [missing])).rows;
  return activityOf(after, events.rows, attempts.rows, attemptEvents, PARSED_JSON_ROWS);
}
