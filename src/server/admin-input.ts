import { EVENT_STATUSES, type AuditQuery, type DeadLetterSelector, type EventFilter, type EventQuery, type EventStatus } from '../delivery/store.ts';
import { badRequest, invalid } from './admin-errors.ts';
import { AUDIT_ACTIONS } from './audit.ts';

/**
 * Reading what an operator asked for — from a query string, a JSON body or a console form — into
 * the store's filters, with one message per bad field. The API and the console share these, so
 * the same search means the same thing in both.
 */

type Input = Record<string, unknown>;

const MAX_TEXT = 500;

/** A time as ISO-8601, a datetime-local value (read as UTC) or epoch milliseconds. */
export function parseTime(value: string): Date | null {
  const v = value.trim();
  if (/^\d{10,16}$/.test(v)) return new Date(Number(v));
  // datetime-local sends no zone: the console labels these fields as UTC.
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? `${v}Z` : v;
  if (!/^\d{4}-\d{2}-\d{2}/.test(withZone)) return null;
  const t = Date.parse(withZone);
  return Number.isNaN(t) ? null : new Date(t);
}

function text(input: Input, key: string, problems: string[]): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems.push(`${key} must be text`);
    return undefined;
  }
  const s = String(value).trim();
  if (s === '') return undefined;
  if (s.length > MAX_TEXT) {
    problems.push(`${key} is longer than ${MAX_TEXT} characters`);
    return undefined;
  }
  return s;
}

function time(input: Input, key: string, problems: string[]): Date | undefined {
  const s = text(input, key, problems);
  if (s === undefined) return undefined;
  const d = parseTime(s);
  if (d === null) {
    problems.push(`${key} must be a time such as 2024-03-01T12:00:00Z (got ${JSON.stringify(s)})`);
    return undefined;
  }
  return d;
}

function positiveInt(input: Input, key: string, problems: string[], max: number): number | undefined {
  const s = text(input, key, problems);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    problems.push(`${key} must be a whole number from 1 to ${max} (got ${JSON.stringify(s)})`);
    return undefined;
  }
  return n;
}

function states(input: Input, problems: string[]): EventStatus[] | undefined {
  const value = input.state;
  if (value === undefined || value === null || value === '') return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  const bad = parts.filter((p) => !(EVENT_STATUSES as readonly string[]).includes(p));
  if (bad.length > 0) {
    problems.push(`state must be one of ${EVENT_STATUSES.join(', ')} (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`);
    return undefined;
  }
  return parts as EventStatus[];
}

/** The fields shared by searches and dead-letter filters. */
function filterFields(input: Input, problems: string[]): EventFilter {
  const filter: EventFilter = {};
  const destinationId = text(input, 'destination', problems);
  const laneKey = text(input, 'userId', problems);
  const messageId = text(input, 'messageId', problems);
  const eventName = text(input, 'event', problems);
  const type = text(input, 'type', problems);
  const receivedFrom = time(input, 'from', problems);
  const receivedTo = time(input, 'to', problems);
  if (destinationId !== undefined) filter.destinationId = destinationId;
  if (laneKey !== undefined) filter.laneKey = laneKey;
  if (messageId !== undefined) filter.messageId = messageId;
  if (eventName !== undefined) filter.eventName = eventName;
  if (type !== undefined) filter.type = type;
  if (receivedFrom !== undefined) filter.receivedFrom = receivedFrom;
  if (receivedTo !== undefined) filter.receivedTo = receivedTo;
  return filter;
}

/** `?userId=&messageId=&event=&state=&type=&destination=&from=&to=&before=&limit=` */
export function parseEventQuery(input: Input): EventQuery {
  const problems: string[] = [];
  const query: EventQuery = filterFields(input, problems);
  const status = states(input, problems);
  if (status !== undefined) query.status = status.length === 1 ? status[0]! : status;
  const beforeId = positiveInt(input, 'before', problems, Number.MAX_SAFE_INTEGER);
  const limit = positiveInt(input, 'limit', problems, 500);
  if (beforeId !== undefined) query.beforeId = beforeId;
  if (limit !== undefined) query.limit = limit;
  if (problems.length > 0) throw badRequest(`Invalid search: ${problems.join('; ')}`, problems);
  return query;
}

/** A dead-letter filter: destination, userId, event, from, to (also messageId, type). */
export function parseDeadLetterFilter(input: Input): Omit<EventFilter, 'status'> {
  const problems: string[] = [];
  const filter = filterFields(input, problems);
  if (problems.length > 0) throw badRequest(`Invalid filter: ${problems.join('; ')}`, problems);
  return filter;
}

/** `{ids: number[]}` or `{filter: {...}}`; `{filter: {}}` selects every dead letter. */
export function parseDeadLetterSelector(body: unknown): DeadLetterSelector {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The body must be a JSON object: {"ids": [1, 2]} or {"filter": {"destination": "…"}}');
  }
  const { ids, filter } = body as { ids?: unknown; filter?: unknown };
  if (ids !== undefined && filter !== undefined) throw badRequest('Give either "ids" or "filter", not both');
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 10_000 || !ids.every((id) => Number.isSafeInteger(id) && (id as number) > 0)) {
      throw badRequest('"ids" must be a non-empty array of event ids (positive whole numbers, at most 10000)');
    }
    return { ids: ids as number[] };
  }
  if (filter !== undefined) {
    if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw badRequest('"filter" must be an object');
    return { filter: parseDeadLetterFilter(filter as Input) };
  }
  throw badRequest('Say which dead letters: {"ids": [1, 2]}, or {"filter": {...}} ({"filter": {}} for all of them)');
}

/** `?action=&before=&limit=` of the audit log. */
export function parseAuditQuery(input: Input): AuditQuery {
  const problems: string[] = [];
  const query: AuditQuery = {};
  const action = text(input, 'action', problems);
  if (action !== undefined) {
    if ((AUDIT_ACTIONS as readonly string[]).includes(action)) query.action = action;
    else problems.push(`action must be one of ${AUDIT_ACTIONS.join(', ')} (got ${JSON.stringify(action)})`);
  }
  const beforeId = positiveInt(input, 'before', problems, Number.MAX_SAFE_INTEGER);
  const limit = positiveInt(input, 'limit', problems, 500);
  if (beforeId !== undefined) query.beforeId = beforeId;
  if (limit !== undefined) query.limit = limit;
  if (problems.length > 0) throw badRequest(`Invalid history query: ${problems.join('; ')}`, problems);
  return query;
}

/** A route's numeric id (`/api/events/:id`). */
export function parseEventId(value: string): number {
  const n = Number(value);
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw badRequest(`Event id must be a positive whole number (got ${JSON.stringify(value)})`);
  return n;
}

export interface NewDestinationInput {
  id?: unknown;
  name?: unknown;
  settings?: unknown;
}

export interface DestinationPatchInput {
  name?: unknown;
  /** Only the fields to change; a secret absent or empty keeps the stored one; null or "" clears an optional field. */
  settings?: unknown;
}

export interface TestEventInput {
  destination?: unknown;
  event?: unknown;
  waitMs?: unknown;
}

const DEFAULT_TEST_WAIT_MS = 10_000;
const MAX_TEST_WAIT_MS = 60_000;

/** How long the event tester waits for the first attempt (`waitMs`). */
export function parseTestWait(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_TEST_WAIT_MS;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > MAX_TEST_WAIT_MS) throw invalid([`waitMs must be from 0 to ${MAX_TEST_WAIT_MS}`]);
  return n;
}
