import { laneKeyOf, type SegmentEvent } from '../../segment/event.ts';
import { eventJson } from '../../segment/event-json.ts';
import type { IngestBatch } from '../ingest.ts';
import type { OutcomeDetail } from '../store.ts';

/** An accepted event as its row holds it (the payload already JSON text). */
export interface AcceptedRow {
  laneKey: string;
  /** Only when it is not the lane key (the event has a userId too): a user search finds it by this. */
  anonymousId: string | null;
  messageId: string;
  type: string;
  eventName: string | null;
  payload: string;
}

/** An event refused at ingest, kept so the delivery log shows it (status `rejected`, no lane). */
export interface RejectedRow {
  laneKey: string | null;
  anonymousId: string | null;
  messageId: string | null;
  type: string | null;
  eventName: string | null;
  payload: string;
  reason: string;
}

/** The rows of one ingest batch, in the order the client sent its events. */
export function batchRows(batch: IngestBatch): { accepted: AcceptedRow[]; rejected: RejectedRow[] } {
  const accepted: AcceptedRow[] = [];
  const rejected: RejectedRow[] = [];
  for (const event of batch.accepted) {
    const laneKey = laneKeyOf(event);
    if (laneKey === null) {
      // Ingest should have rejected it; keep it visible rather than lose it or break a lane.
      rejected.push(rejectedRow(event.messageId, 'neither userId nor anonymousId', event));
      continue;
    }
    accepted.push({
      laneKey,
      anonymousId: otherAnonymousId(laneKey, event.anonymousId),
      messageId: event.messageId,
      type: event.type,
      eventName: eventNameOf(event),
      payload: eventJson(event),
    });
  }
  for (const r of batch.rejected) rejected.push(rejectedRow(r.messageId, r.reason, r.payload));
  return { accepted, rejected };
}

/**
 * Accepted rows as columns, one array per column: what the SQLite store sends its writer thread.
 * A structured clone of six arrays of strings costs half that of 100 objects of six fields
 * (measured for issue 19), and the writer reads them by index the same.
 */
export interface AcceptedColumns {
  laneKeys: string[];
  anonymousIds: Array<string | null>;
  messageIds: string[];
  types: string[];
  eventNames: Array<string | null>;
  payloads: string[];
}

/** batchRows, with the accepted rows as columns. */
export function batchColumns(batch: IngestBatch): { accepted: AcceptedColumns; rejected: RejectedRow[] } {
  const accepted: AcceptedColumns = { laneKeys: [], anonymousIds: [], messageIds: [], types: [], eventNames: [], payloads: [] };
  const rejected: RejectedRow[] = [];
  for (const event of batch.accepted) {
    const laneKey = laneKeyOf(event);
    if (laneKey === null) {
      rejected.push(rejectedRow(event.messageId, 'neither userId nor anonymousId', event));
      continue;
    }
    accepted.laneKeys.push(laneKey);
    accepted.anonymousIds.push(otherAnonymousId(laneKey, event.anonymousId));
    accepted.messageIds.push(event.messageId);
    accepted.types.push(event.type);
    accepted.eventNames.push(eventNameOf(event));
    accepted.payloads.push(eventJson(event));
  }
  for (const r of batch.rejected) rejected.push(rejectedRow(r.messageId, r.reason, r.payload));
  return { accepted, rejected };
}

/** What a rejected event's row says happened to it. */
export function rejectedOutcome(reason: string): OutcomeDetail {
  return { state: 'rejected', reason, calls: [], warnings: [] };
}

/** track: `event`; page/screen: `name`. */
function eventNameOf(event: SegmentEvent): string | null {
  if (typeof event.event === 'string') return event.event;
  if (typeof event.name === 'string') return event.name;
  return null;
}

/** A refused event may be anything: its columns are read from it only where they are text. */
function rejectedRow(messageId: string | null, reason: string, payload: unknown): RejectedRow {
  const fields = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {};
  const laneKey = laneKeyOf({ userId: text(fields.userId), anonymousId: text(fields.anonymousId) });
  return {
    laneKey,
    anonymousId: otherAnonymousId(laneKey, text(fields.anonymousId)),
    messageId,
    type: text(fields.type),
    eventName: text(fields.event) ?? text(fields.name),
    payload: JSON.stringify(payload ?? null),
    reason,
  };
}

function otherAnonymousId(laneKey: string | null, anonymousId: unknown): string | null {
  return typeof anonymousId === 'string' && anonymousId !== '' && anonymousId !== laneKey ? anonymousId : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
