import type { Database, Statement } from 'better-sqlite3';
import type { CallRecord } from '../sailthru/types.ts';
import type { ConsoleSessionRecord, EventStatus, LaneRef, OutcomeDetail, Settlement } from './store.ts';

/**
 * Every write of the SQLite store, as synchronous operations on one connection taking plain,
 * structured-cloneable arguments (times as epoch ms, chosen by the caller's clock). They run
 * inside the group commit, either on the main thread or on the writer thread.
 */

/** An accepted event, ready for its row (the payload already JSON). */
export interface EventRowInput {
  laneKey: string;
  messageId: string;
  type: string;
  eventName: string | null;
  payload: string;
}

export interface RejectedRowInput {
  laneKey: string | null;
  messageId: string | null;
  type: string | null;
  eventName: string | null;
  payload: string;
  reason: string;
}

export interface AppendRows {
  destinationId: string;
  receivedAt: number;
  now: number;
  accepted: EventRowInput[];
  rejected: RejectedRowInput[];
}

export interface SettleWrite {
  eventId: number;
  destinationId: string;
  laneKey: string;
  workerId: string;
  settlement: Settlement;
  startedAt: number;
  durationMs: number;
  calls: CallRecord[];
  warnings: string[];
  now: number;
}

export interface ClaimedLaneRow {
  destinationId: string;
  laneKey: string;
  pending: number;
}

export interface DestinationRowInput {
  id: string;
  name: string;
  settings: string;
  now: number;
}

const UNSETTLED = "status IN ('pending', 'retrying')";

export class SqliteWrites {
  private readonly s: ReturnType<typeof prepare>;

  constructor(db: Database) {
    this.s = prepare(db);
  }

  append(input: AppendRows): { stored: number; duplicates: number } {
    const { destinationId, receivedAt, now } = input;
    const lanes = new Map<string, number>();
    let stored = 0;
    let duplicates = 0;
    for (const e of input.accepted) {
      const result = this.s.insertEvent.run(destinationId, e.laneKey, e.messageId, e.type, e.eventName, e.payload, receivedAt, now);
      if (result.changes === 0) {
        duplicates++;
        continue;
      }
      stored++;
      lanes.set(e.laneKey, (lanes.get(e.laneKey) ?? 0) + 1);
    }
    for (const r of input.rejected) {
      const outcome: OutcomeDetail = { state: 'rejected', reason: r.reason, calls: [], warnings: [] };
      this.s.insertRejected.run({ destinationId, ...r, receivedAt, now, outcome: JSON.stringify(outcome) });
    }
    for (const [laneKey, count] of lanes) this.s.addToLane.run({ destinationId, laneKey, count, now });
    return { stored, duplicates };
  }

  claimLanes(workerId: string, limit: number, until: number, now: number): ClaimedLaneRow[] {
    const rows = this.s.claimLanes.all({ worker: workerId, until, now, limit }) as Array<{
      destination_id: string;
      lane_key: string;
      pending: number;
    }>;
    return rows.map((r) => ({ destinationId: r.destination_id, laneKey: r.lane_key, pending: r.pending }));
  }

  /** Returns whether the event was still unsettled (and so whether the settlement applied). */
  settle(input: SettleWrite): { applied: boolean; final: boolean } {
    const { settlement, destinationId, laneKey, workerId, now } = input;
    const started = input.startedAt;
    const id = input.eventId;
    let changes: number;
    let error: string | null = null;
    let final = false;
    switch (settlement.state) {
      case 'delivered':
      case 'skipped':
      case 'failed': {
        const reason = settlement.state === 'delivered' ? undefined : settlement.reason;
        error = settlement.state === 'failed' ? settlement.reason : null;
        const outcome: OutcomeDetail = { state: settlement.state, reason, calls: input.calls, warnings: input.warnings };
        changes = this.s.settleFinal.run({ id, status: settlement.state, started, now, error, outcome: JSON.stringify(outcome) }).changes;
        if (changes > 0) {
          this.s.laneSettled.run(destinationId, laneKey);
          final = true;
        }
        break;
      }
      case 'retrying': {
        error = settlement.reason;
        const next = settlement.nextAttemptAt.getTime();
        const outcome: OutcomeDetail = { state: 'retry', reason: error, calls: input.calls, warnings: input.warnings };
        changes = this.s.settleRetry.run({ id, started, now, next, error, outcome: JSON.stringify(outcome) }).changes;
        this.s.laneRetryAt.run({ destinationId, laneKey, worker: workerId, next });
        break;
      }
      case 'paused': {
        error = settlement.reason;
        const outcome: OutcomeDetail = { state: 'paused', reason: error, calls: input.calls, warnings: input.warnings };
        changes = this.s.settlePaused.run({ id, now, error, outcome: JSON.stringify(outcome) }).changes;
        this.s.pauseDestinationAtVersion.run({ reason: error, now, id: destinationId, version: settlement.settingsVersion ?? null });
        this.s.releaseLane.run({ destinationId, laneKey, worker: workerId, now });
        break;
      }
    }
    const attemptNo = (this.s.attemptsOf.get(id) as { attempts: number } | undefined)?.attempts ?? 0;
    this.s.insertAttempt.run(
      id,
      Math.max(attemptNo, 1),
      started,
      Math.round(input.durationMs),
      settlement.state === 'retrying' ? 'retry' : settlement.state,
      error,
      JSON.stringify(input.calls),
      JSON.stringify(input.warnings),
      workerId,
    );
    return { applied: changes > 0, final };
  }

  renewLeases(workerId: string, lanes: LaneRef[], until: number): LaneRef[] {
    return lanes.filter((lane) => this.s.renewLease.run({ ...lane, worker: workerId, until }).changes > 0);
  }

  /** Returns whether this worker held the lane (and so whether it is due again). */
  releaseLane(workerId: string, lane: LaneRef, now: number): boolean {
    return this.s.releaseLane.run({ ...lane, worker: workerId, now }).changes > 0;
  }

  /**
   * Lanes of the destination waiting out a retry become due now, and their heads' retry times
   * say so; returns how many lanes. Unleased lanes with a future due time are exactly those.
   */
  wakeRetryingLanes(destinationId: string, now: number): number {
    this.s.wakeRetryingHeads.run({ destinationId, now });
    return this.s.wakeRetryingLanes.run({ destinationId, now }).changes;
  }

  createSession(record: ConsoleSessionRecord, staleBefore: number, keep: number): void {
    this.s.deleteStaleSessions.run(staleBefore);
    this.s.insertSession.run(record);
    this.s.deleteSessionsBeyond.run(keep);
  }

  touchSession(idHash: string, lastSeen: number): void {
    this.s.touchSession.run({ idHash, lastSeen });
  }

  updateSessionState(idHash: string, expected: string, state: string, lastSeen: number): boolean {
    return this.s.updateSessionState.run({ idHash, expected, state, lastSeen }).changes > 0;
  }

  deleteSession(idHash: string): void {
    this.s.deleteSession.run(idHash);
  }

  /** Dead letters among `ids` back to pending at the head of their lanes; returns how many. */
  retryDeadLetters(ids: number[], now: number): number {
    const lanes = new Map<string, { destinationId: string; laneKey: string; count: number }>();
    for (const id of ids) {
      const row = this.s.retryDeadLetter.get({ now, id }) as { destination_id: string; lane_key: string } | undefined;
      if (!row) continue;
      const key = JSON.stringify([row.destination_id, row.lane_key]);
      const lane = lanes.get(key) ?? { destinationId: row.destination_id, laneKey: row.lane_key, count: 0 };
      lane.count++;
      lanes.set(key, lane);
    }
    let count = 0;
    for (const lane of lanes.values()) {
      this.s.addRetriedToLane.run({ ...lane, now });
      count += lane.count;
    }
    return count;
  }

  dropDeadLetters(ids: number[]): number {
    let count = 0;
    for (const id of ids) {
      if (this.s.deleteFailedEvent.run(id).changes > 0) {
        this.s.deleteAttempts.run(id);
        count++;
      }
    }
    return count;
  }

  /** Deletes those of `ids` still in one of `statuses`, with their attempts. */
  deleteEventsWithStatus(ids: number[], statuses: EventStatus[]): number {
    const list = JSON.stringify(statuses);
    let count = 0;
    for (const id of ids) {
      const changes = this.s.deleteEventIfStatus.run(id, list).changes;
      if (changes > 0) this.s.deleteAttempts.run(id);
      count += changes;
    }
    return count;
  }

  deleteEvents(ids: number[]): void {
    for (const id of ids) {
      this.s.deleteEvent.run(id);
      this.s.deleteAttempts.run(id);
    }
  }

  deleteIdleLanes(now: number, limit: number): number {
    return this.s.deleteIdleLanes.run(now, limit).changes;
  }

  createDestination(row: DestinationRowInput): void {
    this.s.insertDestination.run(row.id, row.name, row.settings, row.now, row.now);
  }

  /** Returns whether the settings changed (which also resumes the destination). */
  updateDestination(id: string, name: string | undefined, settings: string | undefined, now: number): boolean {
    if (name !== undefined) this.s.renameDestination.run(name, now, id);
    if (settings === undefined) return false;
    return this.s.replaceSettings.run(settings, now, id).changes > 0;
  }

  /** The destination row, its write keys and lanes (its events go by deleteEvents). */
  deleteDestination(id: string): boolean {
    const changes = this.s.deleteDestination.run(id).changes;
    this.s.deleteWriteKeysOf.run(id);
    this.s.deleteLanesOf.run(id);
    return changes > 0;
  }

  pauseDestination(id: string, reason: string, now: number): void {
    this.s.pauseDestination.run(reason, now, id);
  }

  resumeDestination(id: string, now: number): boolean {
    return this.s.resumeDestination.run(now, id).changes > 0;
  }

  insertWriteKey(id: string, hash: string, destinationId: string, label: string, now: number): void {
    this.requireDestination(destinationId);
    this.s.insertWriteKey.run(id, hash, destinationId, label, now);
  }

  /** An existing key (same hash) is left as it is: a key revoked in the console stays revoked. */
  importWriteKey(id: string, hash: string, destinationId: string, label: string, now: number): void {
    this.requireDestination(destinationId);
    this.s.importWriteKey.run(id, hash, destinationId, label, now);
  }

  revokeWriteKey(id: string, now: number): boolean {
    return this.s.revokeWriteKey.run(now, id).changes > 0;
  }

  private requireDestination(id: string): void {
    if (!this.s.destinationExists.get(id)) throw new Error(`no destination with id ${JSON.stringify(id)}`);
  }
}

/** The operations a write channel carries, by name. */
export type WriteOp = {
  [K in keyof SqliteWrites]: SqliteWrites[K] extends (...args: never[]) => unknown ? K : never;
}[keyof SqliteWrites];
export type WriteArgs<K extends WriteOp> = SqliteWrites[K] extends (...args: infer A) => unknown ? A : never;
export type WriteResult<K extends WriteOp> = SqliteWrites[K] extends (...args: never[]) => infer R ? R : never;

/** Runs a named operation (the writer thread receives names and arguments as messages). */
export function runWrite<K extends WriteOp>(writes: SqliteWrites, op: K, args: WriteArgs<K>): WriteResult<K> {
  // TypeScript cannot narrow a method by a generic key; K ties the arguments to the method.
  const method = writes[op] as unknown as (...a: WriteArgs<K>) => WriteResult<K>;
  return method.apply(writes, args);
}

function prepare(db: Database) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    insertEvent: p(
      `INSERT INTO events (destination_id, lane_key, message_id, type, event_name, payload, status, received_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
    ),
    insertRejected: p(
      `INSERT INTO events (destination_id, lane_key, message_id, type, event_name, payload, status, last_error,
                           received_at, updated_at, settled_at, outcome)
       VALUES (@destinationId, @laneKey, @messageId, @type, @eventName, @payload, 'rejected', @reason,
               @receivedAt, @now, @receivedAt, @outcome)`,
    ),
    // A lane that was empty becomes due now, unless a live lease holds it (its worker either sees
    // the new events or releases the lane, which makes it due).
    addToLane: p(
      `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at) VALUES (@destinationId, @laneKey, @count, @now)
       ON CONFLICT (destination_id, lane_key) DO UPDATE SET
         pending = lanes.pending + excluded.pending,
         next_run_at = CASE WHEN lanes.pending = 0 AND (lanes.leased_by IS NULL OR lanes.lease_until <= @now)
                            THEN @now ELSE lanes.next_run_at END`,
    ),
    // A retried dead letter is older than anything queued behind it: due now, lease permitting.
    addRetriedToLane: p(
      `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at) VALUES (@destinationId, @laneKey, @count, @now)
       ON CONFLICT (destination_id, lane_key) DO UPDATE SET
         pending = lanes.pending + excluded.pending,
         next_run_at = CASE WHEN lanes.leased_by IS NULL OR lanes.lease_until <= @now THEN @now ELSE lanes.next_run_at END`,
    ),
    claimLanes: p(
      `UPDATE lanes SET leased_by = @worker, lease_until = @until, next_run_at = @until
       WHERE rowid IN (
         -- Without INDEXED BY the planner may walk every lane of the destination and sort them.
         SELECT rowid FROM lanes INDEXED BY lanes_due
         WHERE pending > 0 AND next_run_at <= @now
           AND destination_id IN (SELECT id FROM destinations WHERE paused = 0)
         ORDER BY next_run_at LIMIT @limit)
       RETURNING destination_id, lane_key, pending`,
    ),
    settleFinal: p(
      `UPDATE events SET status = @status, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, @started),
         next_attempt_at = NULL, last_error = @error, updated_at = @now, settled_at = @now, outcome = @outcome
       WHERE id = @id AND ${UNSETTLED}`,
    ),
    settleRetry: p(
      `UPDATE events SET status = 'retrying', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, @started),
         next_attempt_at = @next, last_error = @error, updated_at = @now, outcome = @outcome
       WHERE id = @id AND ${UNSETTLED}`,
    ),
    // An attempt that only found the account unusable does not start the retry window.
    settlePaused: p(
      `UPDATE events SET attempts = attempts + 1, last_error = @error, updated_at = @now, outcome = @outcome
       WHERE id = @id AND ${UNSETTLED}`,
    ),
    laneSettled: p('UPDATE lanes SET pending = max(pending - 1, 0) WHERE destination_id = ? AND lane_key = ?'),
    laneRetryAt: p(
      `UPDATE lanes SET next_run_at = @next, leased_by = NULL, lease_until = NULL
       WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
    ),
    deleteStaleSessions: p('DELETE FROM console_sessions WHERE last_seen < ?'),
    insertSession: p(
      `INSERT INTO console_sessions (id_hash, csrf, created_at, last_seen, state)
       VALUES (@idHash, @csrf, @createdAt, @lastSeen, @state)`,
    ),
    deleteSessionsBeyond: p(
      `DELETE FROM console_sessions WHERE id_hash IN
         (SELECT id_hash FROM console_sessions ORDER BY last_seen DESC, created_at DESC LIMIT -1 OFFSET ?)`,
    ),
    touchSession: p('UPDATE console_sessions SET last_seen = max(last_seen, @lastSeen) WHERE id_hash = @idHash'),
    updateSessionState: p(
      `UPDATE console_sessions SET state = @state, last_seen = max(last_seen, @lastSeen)
       WHERE id_hash = @idHash AND state = @expected`,
    ),
    deleteSession: p('DELETE FROM console_sessions WHERE id_hash = ?'),
    wakeRetryingLanes: p(
      `UPDATE lanes SET next_run_at = @now
       WHERE destination_id = @destinationId AND leased_by IS NULL AND pending > 0 AND next_run_at > @now`,
    ),
    // Before wakeRetryingLanes, in the same transaction: the heads of exactly the lanes it wakes.
    wakeRetryingHeads: p(
      `UPDATE events SET next_attempt_at = @now
       WHERE destination_id = @destinationId AND status = 'retrying' AND next_attempt_at > @now
         AND lane_key IN (SELECT lane_key FROM lanes
                          WHERE destination_id = @destinationId AND leased_by IS NULL AND pending > 0 AND next_run_at > @now)`,
    ),
    renewLease: p(
      `UPDATE lanes SET lease_until = @until, next_run_at = @until
       WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
    ),
    // Recounting on release heals a drifted counter, so an empty lane cannot stay due forever.
    releaseLane: p(
      `UPDATE lanes SET leased_by = NULL, lease_until = NULL, next_run_at = @now,
         pending = (SELECT count(*) FROM events e
                    WHERE e.lane_key = @laneKey AND e.destination_id = @destinationId AND e.${UNSETTLED})
       WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
    ),
    attemptsOf: p('SELECT attempts FROM events WHERE id = ?'),
    insertAttempt: p(
      `INSERT INTO attempts (event_id, attempt, started_at, duration_ms, state, error, calls, warnings, worker_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    retryDeadLetter: p(
      `UPDATE events SET status = 'pending', next_attempt_at = @now, first_attempt_at = NULL, settled_at = NULL, updated_at = @now
       WHERE id = @id AND status = 'failed' RETURNING destination_id, lane_key`,
    ),
    deleteFailedEvent: p("DELETE FROM events WHERE id = ? AND status = 'failed'"),
    deleteEvent: p('DELETE FROM events WHERE id = ?'),
    deleteEventIfStatus: p('DELETE FROM events WHERE id = ? AND status IN (SELECT value FROM json_each(?))'),
    deleteAttempts: p('DELETE FROM attempts WHERE event_id = ?'),
    deleteIdleLanes: p(
      `DELETE FROM lanes WHERE rowid IN (
         SELECT rowid FROM lanes WHERE pending = 0 AND (leased_by IS NULL OR lease_until <= ?) LIMIT ?)`,
    ),
    insertDestination: p('INSERT INTO destinations (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
    destinationExists: p('SELECT 1 FROM destinations WHERE id = ?'),
    renameDestination: p('UPDATE destinations SET name = ?, updated_at = ? WHERE id = ?'),
    replaceSettings: p(
      `UPDATE destinations SET settings = ?, version = version + 1, paused = 0, pause_reason = NULL, updated_at = ?
       WHERE id = ?`,
    ),
    deleteDestination: p('DELETE FROM destinations WHERE id = ?'),
    deleteWriteKeysOf: p('DELETE FROM write_keys WHERE destination_id = ?'),
    deleteLanesOf: p('DELETE FROM lanes WHERE destination_id = ?'),
    pauseDestination: p('UPDATE destinations SET paused = 1, pause_reason = ?, updated_at = ? WHERE id = ?'),
    pauseDestinationAtVersion: p(
      `UPDATE destinations SET paused = 1, pause_reason = @reason, updated_at = @now
       WHERE id = @id AND (@version IS NULL OR version = @version)`,
    ),
    resumeDestination: p('UPDATE destinations SET paused = 0, pause_reason = NULL, updated_at = ? WHERE id = ? AND paused = 1'),
    insertWriteKey: p('INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES (?, ?, ?, ?, ?)'),
    importWriteKey: p(
      `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key_hash) DO NOTHING`,
    ),
    revokeWriteKey: p('UPDATE write_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
  };
}
