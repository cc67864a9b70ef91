import type { Authentication, JsonObject, SegmentEvent, SegmentEventType } from './event.ts';
import { mergeOneLevel } from './batch-context.ts';
import { checkEventSize, keepValueTexts } from './event-json.ts';
import { MAX_EVENT_BYTES, MAX_EVENT_DEPTH } from './limits.ts';
import { boundMessageId, generateMessageId } from './message-id.ts';
import { UNSAFE_KEYS } from './safe-json.ts';
import { isoTime, resolveTimes, type IsoTime } from './timestamps.ts';
import { nestsDeeperThan } from './nesting.ts';

export { nestsDeeperThan };

/**
 * Checking and normalising one event as it arrives (accept-then-validate, as Segment: a bad event
 * is refused on its own and the rest of its batch goes on).
 */

export const TRACKING_TYPES: ReadonlySet<SegmentEventType> = new Set(['identify', 'track', 'page', 'screen', 'group', 'alias']);
/** Segment's webhooks also send deletion notifications (SPEC.md §7). */
export const WEBHOOK_TYPES: ReadonlySet<SegmentEventType> = new Set([...TRACKING_TYPES, 'delete']);

export interface EventContext {
  /** Types this entry point takes. */
  allowedTypes: ReadonlySet<SegmentEventType>;
  /** The type a single-event route implies (`/v1/track` → track). */
  routeType?: SegmentEventType;
  /** Top-level `context` / `integrations` of a batch, merged into the event. */
  batchContext?: JsonObject;
  batchIntegrations?: JsonObject;
  /** Top-level `sentAt` of a batch (analytics-node puts it there). */
  batchSentAt?: IsoTime;
  receivedAt: Date;
  /** Recorded in each event as `authenticatedBy` (a client's own field of that name is dropped). */
  authenticatedBy?: Authentication;
  /** Off for webhook events: Segment already corrected their timestamp. */
  correctClockSkew: boolean;
}

/** An event refused at ingest; same shape as the delivery layer's RejectedEvent. */
export interface EventRejection {
  /** Position of the event in the request (0 for a single event). */
  index: number;
  /** The client's messageId when it sent a usable one, bounded to 100 characters. */
  messageId: string | null;
  reason: string;
  /** The event as received, without its write key; a summary when it is too large to keep. */
  payload: unknown;
}

export type EventCheck = { ok: true; event: SegmentEvent } | { ok: false; rejection: EventRejection };

type FieldCheck<T> = { ok: true; value: T } | { ok: false; reason: string };

const OBJECT_FIELDS = ['properties', 'traits', 'context', 'integrations'] as const;
const TIME_FIELDS = ['timestamp', 'originalTimestamp', 'sentAt'] as const;
/**
 * Where ingest records what it corrected in an event (an invalid timestamp replaced, a blank id
 * dropped). The destination repeats these on every attempt, so they show in the delivery log.
 */
export const INGEST_WARNINGS_FIELD = 'ingestWarnings';

/** The warnings ingest recorded in a stored event (none for events stored before there were any). */
export function ingestWarningsOf(event: unknown): string[] {
  if (!isJsonObject(event)) return [];
  const warnings = event[INGEST_WARNINGS_FIELD];
  return Array.isArray(warnings) ? warnings.filter((w): w is string => typeof w === 'string').map((w) => `at ingest: ${w}`) : [];
}

/** Fields ingest sets or removes itself. `writeKey` is a secret and never stored. */
const NOT_COPIED = new Set(['writeKey', 'receivedAt', 'authenticatedBy', INGEST_WARNINGS_FIELD]);

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** UTF-8 size of the event serialised as JSON; null when it cannot be serialised. */
export function serializedBytes(value: unknown): number | null {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return null;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Ids and names key lanes, dedupe and search, and the stores keep text as UTF-8, which cannot
 * hold a lone surrogate (JSON's "\ud800" escape can): such a key would be stored as U+FFFD and
 * no longer match the key it was looked up with. Replace them here, once, as UTF-8 would.
 */
function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * userId / anonymousId / previousId / groupId / messageId: strings, or numbers made strings (as
 * Segment). A string of nothing but whitespace counts as missing (decided: `" "` would otherwise
 * become a lane, and a Sailthru profile, shared by every client sending it); `warn` says so.
 */
function identifier(raw: JsonObject, field: string, warn?: (message: string) => void): FieldCheck<string | undefined> {
  const value = raw[field];
  if (value === undefined || value === null || value === '') return { ok: true, value: undefined };
  if (typeof value === 'string') {
    if (value.trim() === '') {
      warn?.(`${field} ${JSON.stringify(truncate(value, 20))} is only whitespace: treated as missing`);
      return { ok: true, value: undefined };
    }
    return { ok: true, value: wellFormed(value) };
  }
  if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value: String(value) };
  return { ok: false, reason: `${field} must be a string or a number, not ${describeJsonType(value)}` };
}

function clientMessageId(raw: JsonObject): FieldCheck<string | null> {
  const id = identifier(raw, 'messageId');
  if (!id.ok) return id;
  return { ok: true, value: id.value === undefined ? null : boundMessageId(id.value) };
}

function optionalString(raw: JsonObject, field: string): FieldCheck<string | undefined> {
  const value = raw[field];
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value === 'string') return { ok: true, value: wellFormed(value) };
  return { ok: false, reason: `${field} must be a string, not ${describeJsonType(value)}` };
}

function optionalObject(raw: JsonObject, field: string): FieldCheck<JsonObject | undefined> {
  const value = raw[field];
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (isJsonObject(value)) return { ok: true, value };
  return { ok: false, reason: `${field} must be a JSON object, not ${describeJsonType(value)}` };
}

/**
 * A client time. One that is not a valid ISO-8601 date (`"2017"`, `"2024-02-31"`, a number) does
 * not cost the event (decided: the event itself is good, and clients such as the seed's own
 * examples send such times): it is ignored, and the caller records a warning naming it.
 */
function optionalTime(raw: JsonObject, field: string): { value: IsoTime | undefined; invalid: boolean } {
  const value = raw[field];
  if (value === undefined || value === null) return { value: undefined, invalid: false };
  const time = typeof value === 'string' ? isoTime(value) : null;
  return time === null ? { value: undefined, invalid: true } : { value: time, invalid: false };
}

function quoteValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(truncate(value, 40)) : truncate(JSON.stringify(value) ?? String(value), 40);
  return text;
}

function eventType(raw: JsonObject, rules: EventContext): FieldCheck<SegmentEventType> {
  const value = raw.type;
  if (value === undefined || value === null) {
    if (rules.routeType !== undefined) return { ok: true, value: rules.routeType };
    return { ok: false, reason: 'missing type' };
  }
  if (typeof value !== 'string') return { ok: false, reason: `type must be a string, not ${describeJsonType(value)}` };
  if (!rules.allowedTypes.has(value as SegmentEventType)) {
    const reason = WEBHOOK_TYPES.has(value as SegmentEventType)
      ? `type "${value}" is only accepted on /v1/webhook`
      : `unknown type "${truncate(value, 40)}"`;
    return { ok: false, reason };
  }
  if (rules.routeType !== undefined && value !== rules.routeType) {
    return { ok: false, reason: `type "${value}" does not match the /v1/${rules.routeType} route` };
  }
  return { ok: true, value: value as SegmentEventType };
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

/** What the delivery log keeps of a refused event: all of it, unless it is too large or deep. */
function rejectedPayload(raw: unknown, tooBig: boolean): unknown {
  if (!isJsonObject(raw)) return tooBig ? { omitted: 'payload too large to keep' } : raw;
  if (tooBig) {
    const summary: JsonObject = { omitted: 'payload too large to keep' };
    for (const field of ['type', 'messageId', 'userId', 'anonymousId', 'event', 'name']) {
      const value = raw[field];
      if (typeof value === 'string') summary[field] = truncate(value, 200);
      else if (typeof value === 'number') summary[field] = value;
    }
    return summary;
  }
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'writeKey' && !UNSAFE_KEYS.has(key)) kept[key] = value;
  }
  return kept;
}

/**
 * Checks one event and returns it normalised: type set, ids as strings, batch context merged,
 * messageId set (generated when missing), timestamp resolved, receivedAt set, writeKey removed.
 */
export function normalizeEvent(raw: unknown, index: number, rules: EventContext): EventCheck {
  const reject = (reason: string, messageId: string | null = null, tooBig = false): EventCheck => ({
    ok: false,
    rejection: { index, messageId, reason, payload: rejectedPayload(raw, tooBig) },
  });

  if (!isJsonObject(raw)) {
    // Kept whole in the delivery log only when it is small and shallow enough to serialise.
    const unkeepable = nestsDeeperThan(raw, MAX_EVENT_DEPTH) || (serializedBytes(raw) ?? Infinity) > MAX_EVENT_BYTES;
    return reject(`the event must be a JSON object, not ${describeJsonType(raw)}`, null, unkeepable);
  }

  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
  };

  const messageId = clientMessageId(raw);
  if (!messageId.ok) return reject(messageId.reason);
  const id = messageId.value;

  if (nestsDeeperThan(raw, MAX_EVENT_DEPTH)) {
    return reject(`the event nests objects or arrays deeper than ${MAX_EVENT_DEPTH} levels`, id, true);
  }
  const size = checkEventSize(raw, MAX_EVENT_BYTES);
  if (size.over) {
    return reject(`the event is ${size.bytes ?? 'too many'} bytes as JSON, over the limit of 32 KB (${MAX_EVENT_BYTES} bytes)`, id, true);
  }

  const type = eventType(raw, rules);
  if (!type.ok) return reject(type.reason, id);

  const userId = identifier(raw, 'userId', warn);
  if (!userId.ok) return reject(userId.reason, id);
  const anonymousId = identifier(raw, 'anonymousId', warn);
  if (!anonymousId.ok) return reject(anonymousId.reason, id);
  if (type.value === 'delete') {
    if (userId.value === undefined) return reject('a delete notification needs a userId', id);
  } else if (userId.value === undefined && anonymousId.value === undefined) {
    return reject('the event has neither userId nor anonymousId', id);
  }

  const strings: Record<string, string | undefined> = {};
  for (const field of ['event', 'name', 'category']) {
    const value = optionalString(raw, field);
    if (!value.ok) return reject(value.reason, id);
    strings[field] = value.value;
  }
  if (type.value === 'track' && (strings.event === undefined || strings.event === '')) {
    return reject('a track event needs an event name (the "event" field)', id);
  }

  const previousId = identifier(raw, 'previousId', warn);
  if (!previousId.ok) return reject(previousId.reason, id);
  if (type.value === 'alias' && previousId.value === undefined) return reject('an alias event needs a previousId', id);
  const groupId = identifier(raw, 'groupId', warn);
  if (!groupId.ok) return reject(groupId.reason, id);

  const objects: Record<string, JsonObject | undefined> = {};
  for (const field of OBJECT_FIELDS) {
    const value = optionalObject(raw, field);
    if (!value.ok) return reject(value.reason, id);
    objects[field] = value.value;
  }

  const times: Record<string, IsoTime | undefined> = {};
  const invalidTimes: string[] = [];
  for (const field of TIME_FIELDS) {
    const time = optionalTime(raw, field);
    if (time.invalid) invalidTimes.push(field);
    times[field] = time.value;
  }

  const event = { type: type.value } as SegmentEvent;
  for (const [key, value] of Object.entries(raw)) {
    if (NOT_COPIED.has(key) || UNSAFE_KEYS.has(key) || value === null) continue;
    event[key] = value;
  }
  event.type = type.value;
  event.messageId = id ?? generateMessageId();
  setOrDelete(event, 'userId', userId.value);
  setOrDelete(event, 'anonymousId', anonymousId.value);
  setOrDelete(event, 'previousId', previousId.value);
  setOrDelete(event, 'groupId', groupId.value);
  for (const [field, value] of Object.entries(strings)) setOrDelete(event, field, value);
  setOrDelete(event, 'properties', objects.properties);
  setOrDelete(event, 'traits', objects.traits);
  setOrDelete(event, 'context', mergeOneLevel(rules.batchContext, objects.context));
  setOrDelete(event, 'integrations', mergeOneLevel(rules.batchIntegrations, objects.integrations));

  const sentAt = times.sentAt ?? rules.batchSentAt;
  const resolved = resolveTimes({ timestamp: times.timestamp, originalTimestamp: times.originalTimestamp, sentAt }, rules.receivedAt, rules.correctClockSkew);
  event.timestamp = resolved.timestamp;
  setOrDelete(event, 'originalTimestamp', resolved.originalTimestamp);
  setOrDelete(event, 'sentAt', sentAt?.text);
  event.receivedAt = rules.receivedAt.toISOString();
  if (rules.authenticatedBy !== undefined) event.authenticatedBy = rules.authenticatedBy;
  for (const field of invalidTimes) warn(invalidTimeWarning(field, raw[field], event));
  if (warnings.length > 0) event[INGEST_WARNINGS_FIELD] = warnings;
  keepValueTexts(event, size.texts);
  return { ok: true, event };
}

function invalidTimeWarning(field: string, value: unknown, event: SegmentEvent): string {
  const bad = `${field} ${quoteValue(value)} is not a valid ISO-8601 date`;
  if (field !== 'timestamp') return `${bad}: ignored`;
  const from = event.timestamp === event.receivedAt ? 'the time it was received' : 'originalTimestamp and sentAt';
  return `${bad}: the event's time is ${String(event.timestamp)}, ${from}`;
}

function setOrDelete(event: SegmentEvent, field: string, value: unknown): void {
  if (value === undefined) delete event[field];
  else event[field] = value;
}
