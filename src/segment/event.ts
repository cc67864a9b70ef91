import type { JsonObject } from '../json.ts';

export type { JsonObject };

/**
 * A Segment-spec event after ingest has normalised it (batch context merged, messageId set,
 * v1 names kept as sent). This is the unit the lane queue stores and the destination maps.
 */
export type SegmentEventType = 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias' | 'delete';

/**
 * The credential an event came in with, set by ingest (never taken from the client). A write key
 * is public wherever a browser sends events; a webhook signature (HMAC with the Webhooks
 * destination's shared secret) and an admin token are not. A batching Actions webhook signs only
 * its first event: the others are `webhook-unsigned-batch-member` (anyone holding one signed body
 * could append to it). Decides, for instance, whether a deletion is honoured (the
 * `deletionFromEvents` setting).
 */
export type Authentication = 'write-key' | 'webhook-signature' | 'webhook-unsigned-batch-member' | 'admin';
export const AUTHENTICATIONS: readonly Authentication[] = ['write-key', 'webhook-signature', 'webhook-unsigned-batch-member', 'admin'];

export interface SegmentEvent {
  type: SegmentEventType;
  /** Always present after normalising (generated when the client sent none). */
  messageId: string;
  userId?: string | null;
  anonymousId?: string | null;
  /** track: the event name. */
  event?: string;
  /** page/screen: the page name. */
  name?: string;
  /** alias: the id being merged into userId. */
  previousId?: string;
  traits?: JsonObject;
  properties?: JsonObject;
  context?: JsonObject;
  integrations?: JsonObject;
  /** ISO-8601; Segment's corrected event time. */
  timestamp?: string;
  originalTimestamp?: string;
  sentAt?: string;
  receivedAt?: string;
  /** How the request that brought the event was authenticated; absent on events stored before it was recorded. */
  authenticatedBy?: Authentication;
  /** What ingest corrected in the event (INGEST_WARNINGS_FIELD), when anything. */
  ingestWarnings?: string[];
  [key: string]: unknown;
}

/** The lane a user's events travel in: userId, else anonymousId (SPEC.md §0). */
export function laneKeyOf(event: Pick<SegmentEvent, 'userId' | 'anonymousId'>): string | null {
  if (typeof event.userId === 'string' && event.userId !== '') return event.userId;
  if (typeof event.anonymousId === 'string' && event.anonymousId !== '') return event.anonymousId;
  return null;
}
