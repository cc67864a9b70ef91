import { SQLITE_NAME_KEY, type Placeholder } from '../sql/event-query.ts';
import { activityOf, activitySql, deadLetterReasonsSql, reasonOf, type ReasonRow } from '../sql/log-reads.ts';
import { eventColumns, TEXT_JSON_ROWS, type AttemptRow, type EventRow } from '../sql/rows.ts';
import type { ActivityCursor, DeadLetterReason, EventFilter, LogActivity } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';

/** The console's reads of the log: dead letters by reason, and the live view's activity. */

function named(): { params: Record<string, unknown>; param: Placeholder } {
  const params: Record<string, unknown> = {};
  return {
    params,
    param: (value) => {
      const name = `p${Object.keys(params).length}`;
      params[name] = value;
      return `@${name}`;
    },
  };
}

export async function deadLetterReasons(ctx: SqliteStoreContext, filter: Omit<EventFilter, 'status'>): Promise<DeadLetterReason[]> {
  const { params, param } = named();
  const sql = deadLetterReasonsSql(filter, param, SQLITE_NAME_KEY);
  if (sql === null) return [];
  return (ctx.read(sql).all(params) as ReasonRow[]).map(reasonOf);
}

export async function recentActivity(ctx: SqliteStoreContext, after: ActivityCursor | null, limit: number): Promise<LogActivity> {
  const e = named();
  const events = ctx.read(activitySql('events', after, e.param, limit)).all(e.params) as Array<EventRow<string>>;
  const a = named();
  const attempts = ctx.read(activitySql('attempts', after, a.param, limit)).all(a.params) as Array<AttemptRow<string> & { id: number }>;
  const have = new Set(events.map((e) => e.id));
  const missing = [...new Set(attempts.map((a) => a.event_id))].filter((id) => !have.has(id));
  const byId = ctx.read(`SELECT ${eventColumns()} FROM events WHERE id = ?`);
  const attemptEvents = missing.map((id) => byId.get(id) as EventRow<string> | undefined).filter((e): e is EventRow<string> => e !== undefined);
  return activityOf(after, events, attempts, attemptEvents, TEXT_JSON_ROWS);
}
