import type { JsonObject, SegmentEvent, SegmentEventType } from './event.ts';
import {
  TRACKING_TYPES,
  WEBHOOK_TYPES,
  describeJsonType,
  isJsonObject,
  normalizeEvent,
  serializedBytes,
  type EventContext,
  type EventRejection,
} from './event-rules.ts';
import { checkBatchCopies, checkBatchLevel, type BatchContextProblem } from './batch-context.ts';
import { MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_REQUEST_BYTES } from './limits.ts';
import { isoTime } from './timestamps.ts';

/**
 * Turning a parsed request body into normalised events plus per-event rejections.
 *
 * Whole-request problems (wrong shape, too many events, a single event over 32 KB) come back as
 * `{ ok: false, problem, error }` and the HTTP layer refuses the request; problems with one event become a
 * rejection and the other events go on.
 */

/** The single-event routes of the tracking API, named by the type they imply. */
export type SingleEventRoute = Exclude<SegmentEventType, 'delete'>;
export type TrackingRoute = 'batch' | SingleEventRoute;

export const TRACKING_ROUTES: readonly TrackingRoute[] = ['batch', 'identify', 'track', 'page', 'screen', 'group', 'alias'];

export interface NormalizedRequest {
  ok: true;
  /** Valid events, in the order the client sent them. */
  accepted: SegmentEvent[];
  rejected: EventRejection[];
}

/**
 * What is wrong with a whole request: its shape, its number of events, (single-event routes) its
 * size, or (batches) a batch-level context too large or too deep to copy into its events.
 */
export type RequestProblem = 'invalid-body' | 'too-many-events' | 'event-too-large' | BatchContextProblem;

/** What the HTTP layer knows about the request besides its JSON. */
export interface RequestFacts {
  /** The body's bytes (decompressed): the measure of how much a batch's context may be copied. */
  requestBytes?: number;
}

export type NormalizeResult = NormalizedRequest | { ok: false; problem: RequestProblem; error: string };

/** `writeKey` from a tracking API body (the alternative to Basic auth), if it has one. */
export function writeKeyInBody(body: unknown): string | undefined {
  if (!isJsonObject(body)) return undefined;
  const key = body.writeKey;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/** A body of Segment's HTTP Tracking API: `/v1/batch` or one of the single-event routes. */
export function normalizeTrackingBody(body: unknown, route: TrackingRoute, receivedAt: Date, facts: RequestFacts = {}): NormalizeResult {
  const base = { allowedTypes: TRACKING_TYPES, receivedAt, correctClockSkew: true };
  if (route === 'batch') {
    if (!isJsonObject(body)) {
      return { ok: false, problem: 'invalid-body', error: `The body must be a JSON object with a "batch" array, not ${describeJsonType(body)}` };
    }
    return normalizeBatchObject(body, base, facts);
  }
  return normalizeSingle(body, { ...base, routeType: route });
}

/**
 * A body from Segment's Webhooks destinations: one event, an array of events (Webhooks Actions
 * with batching), a `{"type": "delete", "userId"}` notification, or a `{"batch": [...]}` body.
 * Timestamps are kept as Segment computed them.
 */
export function normalizeWebhookBody(body: unknown, receivedAt: Date, facts: RequestFacts = {}): NormalizeResult {
  const base = { allowedTypes: WEBHOOK_TYPES, receivedAt, correctClockSkew: false };
  if (Array.isArray(body)) return normalizeItems(body, base);
  if (isJsonObject(body)) {
    if (Array.isArray(body.batch) && body.type === undefined) return normalizeBatchObject(body, base, facts);
    return normalizeSingle(body, base);
  }
  return {
    ok: false,
    problem: 'invalid-body',
    error: `The body must be a Segment event, an array of events or {"batch": [...]}, not ${describeJsonType(body)}`,
  };
}

function normalizeSingle(body: unknown, rules: EventContext): NormalizeResult {
  if (!isJsonObject(body)) {
    return { ok: false, problem: 'invalid-body', error: `The body must be one event as a JSON object, not ${describeJsonType(body)}` };
  }
  const bytes = serializedBytes(body);
  // null (too deep to serialise) is left to normalizeEvent, which rejects it with the reason.
  if (bytes !== null && bytes > MAX_EVENT_BYTES) {
    return { ok: false, problem: 'event-too-large', error: `The event is over the limit of 32 KB (${MAX_EVENT_BYTES} bytes) as JSON` };
  }
  return normalizeItems([body], rules);
}

function normalizeBatchObject(body: JsonObject, base: EventContext, facts: RequestFacts): NormalizeResult {
  const { batch, context, integrations, sentAt } = body;
  if (batch === undefined) return { ok: false, problem: 'invalid-body', error: 'The body has no "batch" array of events' };
  if (!Array.isArray(batch)) {
    return { ok: false, problem: 'invalid-body', error: `"batch" must be an array of events, not ${describeJsonType(batch)}` };
  }
  if (context !== undefined && context !== null && !isJsonObject(context)) {
    return { ok: false, problem: 'invalid-body', error: `The batch's "context" must be a JSON object, not ${describeJsonType(context)}` };
  }
  if (integrations !== undefined && integrations !== null && !isJsonObject(integrations)) {
    return { ok: false, problem: 'invalid-body', error: `The batch's "integrations" must be a JSON object, not ${describeJsonType(integrations)}` };
  }
  const batchLevel = { ...(isJsonObject(context) ? { context } : {}), ...(isJsonObject(integrations) ? { integrations } : {}) };
  const level = checkBatchLevel(batchLevel);
  if (!level.ok) return level;
  const rules: EventContext = { ...base };
  if (batchLevel.context !== undefined) rules.batchContext = batchLevel.context;
  if (batchLevel.integrations !== undefined) rules.batchIntegrations = batchLevel.integrations;
  // A batch-level sentAt that is not a date is ignored rather than failing the whole batch:
  // it only serves to correct clock skew.
  const batchSentAt = typeof sentAt === 'string' ? isoTime(sentAt) : null;
  if (batchSentAt !== null) rules.batchSentAt = batchSentAt;
  const normalized = normalizeItems(batch, rules);
  if (!normalized.ok) return normalized;
  // Without the body's size (a caller other than ingest), the largest a request may be.
  const copies = checkBatchCopies(normalized.accepted, batchLevel, level.sizes, facts.requestBytes ?? MAX_REQUEST_BYTES);
  return copies.ok ? normalized : copies;
}

function normalizeItems(items: readonly unknown[], rules: EventContext): NormalizeResult {
  if (items.length > MAX_BATCH_EVENTS) {
    return { ok: false, problem: 'too-many-events', error: `The batch has ${items.length} events, over the limit of ${MAX_BATCH_EVENTS}` };
  }
  const accepted: SegmentEvent[] = [];
  const rejected: EventRejection[] = [];
  items.forEach((item, index) => {
    const check = normalizeEvent(item, index, rules);
    if (check.ok) accepted.push(check.event);
    else rejected.push(check.rejection);
  });
  return { ok: true, accepted, rejected };
}
