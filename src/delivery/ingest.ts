import type { SegmentEvent } from '../segment/event.ts';

/**
 * What the HTTP ingest needs from the delivery layer, and nothing more: find which destination a
 * write key feeds, store a batch durably, and say how far behind delivery is (for back-pressure).
 */
export interface IngestBatch {
  destinationId: string;
  /** Valid, normalised events, in the order the client sent them. */
  accepted: SegmentEvent[];
  /** Events refused at ingest; recorded so the delivery log shows them (state `rejected`). */
  rejected: RejectedEvent[];
  receivedAt: Date;
}

export interface RejectedEvent {
  /** Index of the event in the request (batch position). */
  index: number;
  messageId: string | null;
  reason: string;
  /** The event as received (bounded in size by ingest limits). */
  payload: unknown;
}

export interface AppendResult {
  /** Newly stored events. */
  stored: number;
  /** Events whose messageId this destination already had (stored once, SPEC/DESIGN dedupe). */
  duplicates: number;
}

export interface IngestSink {
  /** Resolves only after the batch is durable (committed with synchronous=FULL / fsync). */
  append(batch: IngestBatch): Promise<AppendResult>;
  /** Events not yet settled (pending + retrying) across all destinations. */
  backlog(): Promise<number>;
}

export interface WriteKeyDirectory {
  /** The destination a write key feeds, or null when the key is unknown or revoked. */
  destinationFor(writeKey: string): Promise<string | null>;
}
