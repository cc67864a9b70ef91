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
/** The rest; SQLite indexes a lane's settled events apart from its unsettled ones. */
export const SETTLED = "status NOT IN ('pending', 'retrying')";

/**
 * The expression each schema indexes event names by, folded to lower case: ASCII letters only,
 * so both databases (and this code) fold alike whatever their locale.
 */
export type NameKey = string;
export const SQLITE_NAME_KEY: NameKey = 'lower(event_name)';
export const POSTGRES_NAME_KEY: NameKey = `(translate(event_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C")`;

/** What the name keys do to a name: A–Z to a–z, nothing else. */
export function foldName(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Above every string that starts with the prefix, in byte (UTF-8) order. */
const LAST_CODE_POINT = '\u{10FFFF}';

/**
 * The WHERE clauses of a filter; null when nothing can match. messageId and laneKey are left to
 * eventSelects (one indexed SELECT per alternative) unless `userAsOr` asks for one OR clause
 * (an aggregate over the filter cannot be split).
 */
export function filterClauses(filter: EventFilter, param: Placeholder, nameKey: NameKey, userAsOr = false): string[] | null {
  const clauses: string[] = [];
  if (filter.destinationId !== undefined) clauses.push(`destination_id = ${param(filter.destinationId)}`);
  if (userAsOr && filter.laneKey !== undefined) {
    const user = param(filter.laneKey);
    clauses.push(`(lane_key = ${user} OR anonymous_id = ${user})`);
  }
  if (filter.eventName !== undefined && filter.eventName !== '') {
    // A prefix as a range: the expression index serves it in both databases.
    const prefix = foldName(filter.eventName);
    clauses.push(`${nameKey} >= ${param(prefix)}`, `${nameKey} < ${param(prefix + LAST_CODE_POINT)}`);
  }
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
 * The SELECTs of one search, each at most `limit` rows, merged by mergeEvents: one per
 * alternative, each an indexed lookup. The messageId index covers accepted events only (it is
 * the dedupe index), so rejected events with that messageId come from the status index. A user
 * is a lane key, or the anonymousId of an event whose lane is its userId (anonymous_id is stored
 * only then, so the two never select the same row).
 */
export function eventSelects(filter: EventFilter, clauses: string[], range: EventRange, param: Placeholder, laneSplit = false): string[] {
  const all = [...clauses];
  if (range.beforeId !== undefined) all.push(`id < ${param(range.beforeId)}`);
  if (range.afterId !== undefined) all.push(`id > ${param(range.afterId)}`);
  const order = isAscending(range) ? 'ASC' : 'DESC';
  const limit = param(range.limit);
  const select = (extra: string[]) => `SELECT ${eventColumns()} FROM events ${where([...all, ...extra])} ORDER BY id ${order} LIMIT ${limit}`;
  let alternatives: string[][] = [[]];
  if (filter.messageId !== undefined) {
    const messageId = param(filter.messageId);
    alternatives = [
      [`message_id = ${messageId}`, "status <> 'rejected'"],
      [`message_id = ${messageId}`, "status = 'rejected'"],
    ];
  }
  if (filter.laneKey !== undefined) {
    const user = param(filter.laneKey);
    // laneSplit (SQLite): a lane's events are in two partial indexes, one SELECT for each.
    const byLane = laneSplit ? [[`lane_key = ${user}`, UNSETTLED], [`lane_key = ${user}`, SETTLED]] : [[`lane_key = ${user}`]];
    alternatives = alternatives.flatMap((a) => [...byLane.map((lane) => [...a, ...lane]), [...a, `anonymous_id = ${user}`]]);
  }
  return alternatives.map(select);
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

/** What prune deletes: by default delivered, skipped, rejected and dropped; dead letters stay until handled. */
export function pruneStatuses(options: PruneOptions): EventStatus[] {
  return [...new Set<EventStatus>(options.statuses ?? ['delivered', 'skipped', 'rejected', 'dropped'])];
}
