/** Segment wire formats: event types, limits, safe parsing and normalising of request bodies. */
export * from './event.ts';
export * from './limits.ts';
export { parseJsonBody, dropUnsafeKeys, UNSAFE_KEYS, type JsonParseResult } from './safe-json.ts';
export { locateJsonSyntaxError, type JsonSyntaxError } from './json-syntax.ts';
export { generateMessageId, boundMessageId } from './message-id.ts';
export { parseIsoTime, isoTime, resolveTimes, type IsoTime, type EventTimes, type ResolvedTimes } from './timestamps.ts';
export { mergeOneLevel, checkBatchLevel, checkBatchCopies, type BatchContextProblem } from './batch-context.ts';
export { nestsDeeperThan } from './nesting.ts';
export {
  TRACKING_TYPES,
  WEBHOOK_TYPES,
  normalizeEvent,
  INGEST_WARNINGS_FIELD,
  ingestWarningsOf,
  isJsonObject,
  type EventContext,
  type EventRejection,
  type EventCheck,
} from './event-rules.ts';
export {
  TRACKING_ROUTES,
  normalizeTrackingBody,
  normalizeWebhookBody,
  writeKeyInBody,
  type TrackingRoute,
  type SingleEventRoute,
  type NormalizedRequest,
  type NormalizeResult,
  type RequestProblem,
  type RequestFacts,
} from './normalize.ts';
export { TRACKING_PATHS, WEBHOOK_PATH, type TrackingPath } from './paths.ts';
