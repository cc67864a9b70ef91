import { eventColumns } from './rows.ts';
import type { EventFilter, EventPage, EventQuery, EventStatus, PruneOptions, StoredEvent } from '../store.ts';

/**
 * The delivery log's queries, the same SQL in both stores but for placeholders: a Placeholder
 * turns a value into `@pN` (SQLite) or `$N` (PostgreSQL) and remembers it.
 */
export type Placeholder = (value: unknown) => string;

const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;
/** Rows per batch of work over many events (dead letters, deletes, prune): short transactions. */
export const WORK_BATCH = 1000;

/** Unsettled events (SPEC.md §9): the head of a lane is the oldest of these. */
export const UNSETTLED = "status IN ('pending', 'retrying')";

/** The WHERE clauses of a filter (all but messageId, see eventSelects); null when nothing can match. */
export function filterClauses(filter: EventFilter, param: Placeholder): string[] | null {
  const clauses: string[] = [];
  if (filter.destinationId !== undefined) clauses.push(`destination_id = ${param(filter.destinationId)}`);
  if (filter.laneKey !== undefined) clauses.push(`lane_key = ${param(filter.laneKey)}`);
  if (filter.eventName !== undefined) clauses.push(`event_name = ${param(filter.eventName)}`);
  if (filter.type !== undefined) clauses.push(`type = ${param(filter.type)}`);
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (statuses.length === 0) return null;
    clauses.push(`status IN (${statuses.map(param).join(', ')})`);
  }
  if (filter.receivedFrom !== undefined) clauses.push(`received_at >= ${param(filter.receivedFrom.getTime())}`);
  if (filter.receivedTo !== undefined) clauses.push(`received_at < ${param(filter.receivedTo.getTime())}`);
  return clauses;
}

export interface EventRange {
  /** Newest first, keyset-paged below this id (the delivery log's pages). */
  beforeId?: number;
  /** Oldest first, above this id (batch work over dead letters). */
  afterId?: number;
  /** Oldest first without afterId. */
  ascending?: boolean;
  limit: number;
}

/**
 * The SELECTs of one search, each at most `limit` rows: one, or two when it looks for a
 * messageId. The messageId index covers accepted events only (it is the dedupe index), so rejected
 * events with that messageId come from the status index: two indexed lookups, merged by
 * mergeEvents.
 */
export function eventSelects(filter: EventFilter, clauses: string[], range: EventRange, param: Placeholder): string[] {
  const all = [...clauses];
  if (range.beforeId !== undefined) all.push(`id < ${param(range.beforeId)}`);
  if (range.afterId !== undefined) all.push(`id > ${param(range.afterId)}`);
  const order = isAscending(range) ? 'ASC' : 'DESC';
  const limit = param(range.limit);
  const select = (extra: string[]) => `SELECT ${eventColumns()} FROM events ${where([...all, ...extra])} ORDER BY id ${order} LIMIT ${limit}`;
  if (filter.messageId === undefined) return [select([])];
  const messageId = param(filter.messageId);
  return [select([`message_id = ${messageId}`, "status <> 'rejected'"]), select([`message_id = ${messageId}`, "status = 'rejected'"])];
}

/** The rows of eventSelects' SELECTs as one result, in the range's order. */
export function mergeEvents<R extends { id: number }>(rows: R[], range: EventRange): R[] {
  const ascending = isAscending(range);
  return rows.sort((a, b) => (ascending ? a.id - b.id : b.id - a.id)).slice(0, range.limit);
}

function isAscending(range: EventRange): boolean {
  return range.afterId !== undefined || range.ascending === true;
}

export function where(clauses: readonly string[]): string {
  return clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
}

/** Rows to fetch for a page: one more than it shows, to know whether another follows. */
export function pageRange(query: EventQuery): EventRange {
  const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE), MAX_PAGE);
  return { ...(query.beforeId !== undefined ? { beforeId: query.beforeId } : {}), limit: limit + 1 };
}

/** A page of the rows fetched for pageRange(query). */
export function pageOf<R>(rows: R[], range: EventRange, toEvent: (row: R) => StoredEvent): EventPage {
  const shown = range.limit - 1;
  const events = rows.slice(0, shown).map(toEvent);
  return { events, nextBeforeId: rows.length > shown ? events[events.length - 1]!.id : null };
}

/** Rows received this much after the prune cutoff end the scan (ids follow arrival only roughly). */
export const PRUNE_SCAN_SLACK_MS = 60_000;

/** What prune deletes: by default delivered, skipped and rejected; dead letters stay until handled. */
export function pruneStatuses(options: PruneOptions): EventStatus[] {
  return [...new Set<EventStatus>(options.statuses ?? ['delivered', 'skipped', 'rejected'])];
}
