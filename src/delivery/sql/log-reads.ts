import { eventColumns, type AttemptRow, type EventRow, type RowReader } from './rows.ts';
import { filterClauses, where, type NameKey, type Placeholder } from './event-query.ts';
import type { ActivityCursor, DeadLetterReason, EventFilter, LogActivity } from '../store.ts';

/**
 * The console's reads of the log beyond searches, the same SQL in both stores: dead letters
 * counted by reason, and what happened since a cursor (the live view).
 */

/** Distinct reasons beyond this are not counted (a reason with an id in it is one per event). */
export const MAX_REASONS = 10_000;

export function deadLetterReasonsSql(filter: Omit<EventFilter, 'status'>, param: Placeholder, nameKey: NameKey): string | null {
  const clauses = filterClauses({ ...filter, status: 'failed' }, param, nameKey, true);
  if (clauses === null) return null;
  if (filter.messageId !== undefined) clauses.push(`message_id = ${param(filter.messageId)}`);
  return `SELECT last_error AS reason, count(*) AS n, min(coalesce(settled_at, updated_at)) AS first_seen,
            max(coalesce(settled_at, updated_at)) AS last_seen, min(id) AS sample_id
          FROM events ${where(clauses)}
          GROUP BY last_error ORDER BY n DESC, sample_id LIMIT ${MAX_REASONS}`;
}

export interface ReasonRow {
  reason: string | null;
  n: number;
  first_seen: number;
  last_seen: number;
  sample_id: number;
}

export function reasonOf(row: ReasonRow): DeadLetterReason {
  return { reason: row.reason, count: Number(row.n), firstSeen: new Date(Number(row.first_seen)), lastSeen: new Date(Number(row.last_seen)), sampleId: Number(row.sample_id) };
}

/** A SELECT of recentActivity: events or attempts after an id (or the newest ones), one placeholder set each. */
export function activitySql(table: 'events' | 'attempts', after: ActivityCursor | null, param: Placeholder, limit: number): string {
  const columns = table === 'events' ? eventColumns() : '*';
  if (after === null) return `SELECT ${columns} FROM ${table} ORDER BY id DESC LIMIT ${param(limit)}`;
  const afterId = table === 'events' ? after.eventId : after.attemptId;
  return `SELECT ${columns} FROM ${table} WHERE id > ${param(afterId)} ORDER BY id LIMIT ${param(limit)}`;
}

/** Assembles recentActivity's answer: oldest first, the cursor moved past what was read. */
export function activityOf<J>(
  after: ActivityCursor | null,
  eventRows: Array<EventRow<J>>,
  attemptRows: Array<AttemptRow<J> & { id: number }>,
  attemptEvents: Array<EventRow<J>>,
  rows: RowReader<J>,
): LogActivity {
  const events = [...eventRows].sort((a, b) => a.id - b.id);
  const attempts = [...attemptRows].sort((a, b) => a.id - b.id);
  const byId = new Map([...attemptEvents, ...events].map((e) => [e.id, e]));
  return {
    events: events.map((e) => rows.event(e)),
    attempts: attempts.flatMap((a) => {
      const event = byId.get(a.event_id);
      // An event dropped since its attempt: nothing left to show.
      return event ? [{ id: a.id, attempt: rows.attempt(a), event: rows.event(event) }] : [];
    }),
    cursor: {
      eventId: Math.max(after?.eventId ?? 0, ...events.map((e) => e.id)),
      attemptId: Math.max(after?.attemptId ?? 0, ...attempts.map((a) => a.id)),
    },
  };
}
