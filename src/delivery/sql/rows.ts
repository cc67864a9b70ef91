import type { DestinationSettings } from '../../destination/settings.ts';
import type { Mapping } from '../../destination/mappings/schema.ts';
import type { OutcomeState } from '../../destination/outcome.ts';
import type { CallRecord } from '../../sailthru/types.ts';
import type { AttemptRecord, AuditRecord, Destination, EventStatus, OutcomeDetail, StoredEvent, WriteKeyRecord } from '../store.ts';

/**
 * Rows as both databases return them, and the records the store hands out. The schemas have the
 * same tables and columns (test/delivery/schema-parity.test.ts); times are epoch ms in both
 * (PostgreSQL's BIGINT read as numbers). Two things differ: a JSON column is text in SQLite and an
 * already parsed value from `pg` (`J`, read by the store's RowReader), and a boolean is 0/1 in
 * SQLite.
 */

export interface EventRow<J> {
  id: number;
  destination_id: string;
  lane_key: string | null;
  message_id: string | null;
  type: string | null;
  event_name: string | null;
  payload: J;
  status: EventStatus;
  attempts: number;
  next_attempt_at: number | null;
  first_attempt_at: number | null;
  last_error: string | null;
  received_at: number;
  updated_at: number;
  settled_at: number | null;
  outcome: J | null;
  dropped_by: string | null;
  dropped_at: number | null;
  /** The calls of the attempt that decided the outcome (eventColumns), stored once, on the attempt. */
  outcome_calls?: J | null;
}

/**
 * An event's columns, plus its outcome's calls from the attempt that decided it: the first
 * attempt row with the event's attempt count (a late settle's row of that number comes after).
 */
export function eventColumns(table = 'events'): string {
  return `${table}.*, (SELECT a.calls FROM attempts a WHERE a.event_id = ${table}.id AND a.attempt = ${table}.attempts ORDER BY a.id LIMIT 1) AS outcome_calls`;
}

export interface AttemptRow<J> {
  event_id: number;
  attempt: number;
  started_at: number;
  duration_ms: number;
  state: OutcomeState;
  error: string | null;
  calls: J;
  warnings: J;
  worker_id: string;
}

export interface DestinationRow<J> {
  id: string;
  name: string;
  settings: J;
  /** Absent before the mappings migration ran (never once it has). */
  mappings?: J | null;
  paused: boolean | number;
  pause_reason: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface WriteKeyRow {
  id: string;
  destination_id: string;
  label: string;
  key_prefix: string | null;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface AuditRow<J> {
  id: number;
  at: number;
  action: string;
  actor: string | null;
  channel: string;
  source: string | null;
  target: string | null;
  filter: J | null;
  count: number | null;
  detail: string | null;
}

/** The columns of a write key that leave the store (never its hash). */
export const WRITE_KEY_COLUMNS = 'id, destination_id, label, key_prefix, created_at, revoked_at, last_used_at';

/** Rows to records, given how the database returns a JSON column. */
export class RowReader<J> {
  constructor(private readonly json: (column: J) => unknown) {}

  event(row: EventRow<J>): StoredEvent {
    return {
      id: row.id,
      destinationId: row.destination_id,
      laneKey: row.lane_key,
      messageId: row.message_id,
      type: row.type,
      eventName: row.event_name,
      payload: this.json(row.payload),
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: date(row.next_attempt_at),
      firstAttemptAt: date(row.first_attempt_at),
      lastError: row.last_error,
      receivedAt: new Date(row.received_at),
      updatedAt: new Date(row.updated_at),
      settledAt: date(row.settled_at),
      outcome: this.outcome(row),
      droppedBy: row.dropped_by ?? null,
      droppedAt: date(row.dropped_at ?? null),
    };
  }

  /** Rows written before the calls were stored once still carry them in the outcome. */
  private outcome(row: EventRow<J>): OutcomeDetail | null {
    if (row.outcome === null) return null;
    const stored = this.json(row.outcome) as Omit<OutcomeDetail, 'calls'> & { calls?: CallRecord[] };
    if (stored.calls !== undefined) return stored as OutcomeDetail;
    const calls = row.outcome_calls === undefined || row.outcome_calls === null ? [] : (this.json(row.outcome_calls) as CallRecord[]);
    return { ...stored, calls };
  }

  attempt(row: AttemptRow<J>): AttemptRecord {
    return {
      eventId: row.event_id,
      attempt: row.attempt,
      startedAt: new Date(row.started_at),
      durationMs: row.duration_ms,
      state: row.state,
      error: row.error,
      calls: this.json(row.calls) as CallRecord[],
      warnings: this.json(row.warnings) as string[],
      workerId: row.worker_id,
    };
  }

  destination(row: DestinationRow<J>): Destination {
    return {
      id: row.id,
      name: row.name,
      settings: this.json(row.settings) as DestinationSettings,
      mappings: row.mappings === undefined || row.mappings === null ? null : (this.json(row.mappings) as Mapping[]),
      paused: row.paused === true || row.paused === 1,
      pauseReason: row.pause_reason,
      version: row.version,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
    };
  }

  audit(row: AuditRow<J>): AuditRecord {
    return {
      id: row.id,
      at: new Date(row.at),
      action: row.action,
      actor: row.actor,
      channel: row.channel,
      source: row.source,
      target: row.target,
      filter: row.filter === null ? null : (this.json(row.filter) as Record<string, string>),
      count: row.count,
      detail: row.detail,
    };
  }

  writeKey(row: WriteKeyRow): WriteKeyRecord {
    return {
      id: row.id,
      destinationId: row.destination_id,
      label: row.label,
      prefix: row.key_prefix,
      createdAt: new Date(row.created_at),
      revokedAt: date(row.revoked_at),
      lastUsedAt: date(row.last_used_at),
    };
  }
}

/** SQLite keeps JSON as text. */
export const TEXT_JSON_ROWS = new RowReader<string>((text) => JSON.parse(text) as unknown);
/** `pg` parses `json` columns itself. */
export const PARSED_JSON_ROWS = new RowReader<unknown>((value) => value);

function date(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
