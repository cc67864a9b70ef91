import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import type { CallRecord } from '../sailthru/types.ts';
import type { DestinationSettings } from '../destination/settings.ts';
import type { OutcomeState } from '../destination/outcome.ts';
import { laneKeyOf, type SegmentEvent } from '../segment/event.ts';
import type { AppendResult, IngestBatch } from './ingest.ts';
import { GroupCommit } from './sqlite-group-commit.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import {
  systemClock,
  type AttemptRecord,
  type Clock,
  type CreatedWriteKey,
  type DeadLetterSelector,
  type Destination,
  type DestinationBacklog,
  type DestinationPatch,
  type EventDetail,
  type EventFilter,
  type EventPage,
  type EventQuery,
  type EventStatus,
  type EventStore,
  type LaneLease,
  type LaneRef,
  type NewDestination,
  type OutcomeDetail,
  type PruneOptions,
  type QueuedEvent,
  type SettleInput,
  type SettleResult,
  type StoredEvent,
  type WriteKeyRecord,
} from './store.ts';
import { generateWriteKey, hashWriteKey } from './write-keys.ts';

export interface SqliteStoreOptions {
  /** File path (`:memory:` works but is not durable). */
  path: string;
  clock?: Clock;
  /** Extra gathering time per group commit, ms; 0 = the next turn of the event loop. */
  groupCommitDelayMs?: number;
  /** How long backlog() may serve a cached total, ms (it is asked on every ingest request). */
  backlogCacheMs?: number;
}

interface EventRow {
  id: number;
  destination_id: string;
  lane_key: string | null;
  message_id: string | null;
  type: string | null;
  event_name: string | null;
  payload: string;
  status: EventStatus;
  attempts: number;
  next_attempt_at: number | null;
  first_attempt_at: number | null;
  last_error: string | null;
  received_at: number;
  updated_at: number;
  settled_at: number | null;
  outcome: string | null;
}

interface AttemptRow {
  event_id: number;
  attempt: number;
  started_at: number;
  duration_ms: number;
  state: OutcomeState;
  error: string | null;
  calls: string;
  warnings: string;
  worker_id: string;
}

interface DestinationRow {
  id: string;
  name: string;
  settings: string;
  paused: number;
  pause_reason: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

interface WriteKeyRow {
  id: string;
  destination_id: string;
  label: string;
  created_at: number;
  revoked_at: number | null;
}

const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;
const WORK_BATCH = 1000;
/** Rows received this much after the prune cutoff end the scan (ids follow arrival only roughly). */
const PRUNE_SCAN_SLACK_MS = 60_000;

/** Opens (creating when needed) and migrates a SQLite event store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteEventStore> {
  const store = new SqliteEventStore(options);
  await store.migrate();
  return store;
}

/**
 * The embedded event store: one better-sqlite3 connection, WAL, synchronous=FULL, all writes
 * through a group commit. Reads go straight to the connection; they never see a half-done group
 * because a group commits within one synchronous call.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database;
  private readonly clock: Clock;
  private readonly writes: GroupCommit;
  private readonly listeners = new Set<() => void>();
  private workAvailable = false;
  private readonly backlogCacheMs: number;
  private backlogCache: { value: number; at: number } | null = null;
  private readonly searchStatements = new Map<string, Statement>();
  private migrated = false;
  private s!: ReturnType<SqliteEventStore['prepareStatements']>;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new BetterSqlite3(options.path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk (WAL fsynced) before ingest answers 200.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // A bigger WAL between checkpoints keeps checkpoint fsyncs off the ingest path most of the time.
    this.db.pragma('wal_autocheckpoint = 4000');
    this.clock = options.clock ?? systemClock;
    this.backlogCacheMs = options.backlogCacheMs ?? 1000;
    this.writes = new GroupCommit(this.db, options.groupCommitDelayMs ?? 0, () => this.notifyIfWork());
  }

  async migrate(): Promise<void> {
    if (this.migrated) return;
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    const apply = this.db.transaction(() => {
      for (let version = current + 1; version <= SQLITE_MIGRATIONS.length; version++) {
        this.db.exec(SQLITE_MIGRATIONS[version - 1]!);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      }
    });
    apply.immediate();
    this.s = this.prepareStatements();
    this.migrated = true;
  }

  /** Group commits so far. */
  get commitCount(): number {
    return this.writes.commits;
  }

  /** The durability settings in force (journal_mode, synchronous: 2 = FULL). */
  pragmas(): { journalMode: string; synchronous: number } {
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
    };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.writes.close();
    this.db.close();
  }

  // ---------------------------------------------------------------- ingest

  append(batch: IngestBatch): Promise<AppendResult> {
    return this.writes.run(() => {
      const now = this.clock.now();
      const receivedAt = batch.receivedAt.getTime();
      const destinationId = batch.destinationId;
      const lanes = new Map<string, number>();
      let stored = 0;
      let duplicates = 0;
      for (const event of batch.accepted) {
        const laneKey = laneKeyOf(event);
        if (laneKey === null) {
          // Ingest should have rejected it; keep it visible rather than lose it or break a lane.
          this.insertRejected(destinationId, event.messageId, 'neither userId nor anonymousId', event, receivedAt, now);
          continue;
        }
        const result = this.s.insertEvent.run(
          destinationId,
          laneKey,
          event.messageId,
          event.type,
          eventNameOf(event),
          JSON.stringify(event),
          receivedAt,
          now,
        );
        if (result.changes === 0) {
          duplicates++;
          continue;
        }
        stored++;
        lanes.set(laneKey, (lanes.get(laneKey) ?? 0) + 1);
      }
      for (const rejected of batch.rejected) {
        this.insertRejected(destinationId, rejected.messageId, rejected.reason, rejected.payload, receivedAt, now);
      }
      for (const [laneKey, count] of lanes) this.s.addToLane.run({ destinationId, laneKey, count, now });
      if (stored > 0) {
        this.workAvailable = true;
        if (this.backlogCache) this.backlogCache.value += stored;
      }
      return { stored, duplicates };
    });
  }

  async backlog(): Promise<number> {
    const now = Date.now();
    if (this.backlogCache && now - this.backlogCache.at < this.backlogCacheMs) return this.backlogCache.value;
    const value = (this.s.backlogTotal.get() as { n: number }).n;
    this.backlogCache = { value, at: now };
    return value;
  }

  // ---------------------------------------------------------------- lane queue

  claimLanes(workerId: string, limit: number, leaseMs: number): Promise<LaneLease[]> {
    return this.writes.run(() => {
      const now = this.clock.now();
      const until = now + leaseMs;
      const rows = this.s.claimLanes.all({ worker: workerId, until, now, limit }) as Array<{
        destination_id: string;
        lane_key: string;
        pending: number;
      }>;
      return rows.map((r) => ({ destinationId: r.destination_id, laneKey: r.lane_key, pending: r.pending, leaseUntil: new Date(until) }));
    });
  }

  async head(lane: LaneRef): Promise<QueuedEvent | null> {
    const row = this.s.head.get({ destinationId: lane.destinationId, laneKey: lane.laneKey }) as EventRow | undefined;
    return row ? (toStoredEvent(row) as QueuedEvent) : null;
  }

  settle(input: SettleInput): Promise<SettleResult> {
    return this.writes.run(() => {
      const now = this.clock.now();
      const { event, settlement, attempt, workerId } = input;
      const started = attempt.startedAt.getTime();
      const { destinationId, laneKey } = event;
      let changes: number;
      let error: string | null = null;
      switch (settlement.state) {
        case 'delivered':
        case 'skipped':
        case 'failed': {
          const reason = settlement.state === 'delivered' ? undefined : settlement.reason;
          error = settlement.state === 'failed' ? settlement.reason : null;
          const outcome: OutcomeDetail = { state: settlement.state, reason, calls: attempt.calls, warnings: attempt.warnings };
          changes = this.s.settleFinal.run({
            id: event.id,
            status: settlement.state,
            started,
            now,
            error,
            outcome: JSON.stringify(outcome),
          }).changes;
          if (changes > 0) {
            this.s.laneSettled.run(destinationId, laneKey);
            if (this.backlogCache) this.backlogCache.value = Math.max(0, this.backlogCache.value - 1);
          }
          break;
        }
        case 'retrying': {
          error = settlement.reason;
          const next = settlement.nextAttemptAt.getTime();
          const outcome: OutcomeDetail = { state: 'retry', reason: error, calls: attempt.calls, warnings: attempt.warnings };
          changes = this.s.settleRetry.run({ id: event.id, started, now, next, error, outcome: JSON.stringify(outcome) }).changes;
          this.s.laneRetryAt.run({ destinationId, laneKey, worker: workerId, next });
          break;
        }
        case 'paused': {
          error = settlement.reason;
          const outcome: OutcomeDetail = { state: 'paused', reason: error, calls: attempt.calls, warnings: attempt.warnings };
          changes = this.s.settlePaused.run({ id: event.id, now, error, outcome: JSON.stringify(outcome) }).changes;
          this.s.pauseDestinationAtVersion.run({ reason: error, now, id: destinationId, version: settlement.settingsVersion ?? null });
          this.s.releaseLane.run({ destinationId, laneKey, worker: workerId, now });
          break;
        }
      }
      const attemptNo = (this.s.attemptsOf.get(event.id) as { attempts: number } | undefined)?.attempts ?? 0;
      this.s.insertAttempt.run(
        event.id,
        Math.max(attemptNo, 1),
        started,
        Math.round(attempt.durationMs),
        settlement.state === 'retrying' ? 'retry' : settlement.state,
        error,
        JSON.stringify(attempt.calls),
        JSON.stringify(attempt.warnings),
        workerId,
      );
      return { applied: changes > 0 };
    });
  }

  renewLeases(workerId: string, lanes: LaneRef[], leaseMs: number): Promise<LaneRef[]> {
    if (lanes.length === 0) return Promise.resolve([]);
    return this.writes.run(() => {
      const until = this.clock.now() + leaseMs;
      return lanes.filter((lane) => this.s.renewLease.run({ ...lane, worker: workerId, until }).changes > 0);
    });
  }

  releaseLane(workerId: string, lane: LaneRef): Promise<void> {
    return this.writes.run(() => {
      const result = this.s.releaseLane.run({ ...lane, worker: workerId, now: this.clock.now() });
      if (result.changes > 0) this.workAvailable = true;
    });
  }

  onWorkAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- delivery log

  async backlogByDestination(): Promise<DestinationBacklog[]> {
    const now = this.clock.now();
    const ids = (this.s.destinationsWithEvents.all() as Array<{ id: string }>).map((r) => r.id);
    return ids.map((destinationId) => {
      const unsettled = (this.s.unsettledOf.get(destinationId) as { n: number }).n;
      const retrying = (this.s.countStatus.get('retrying', destinationId) as { n: number }).n;
      const failed = (this.s.countStatus.get('failed', destinationId) as { n: number }).n;
      const oldest = [
        this.s.oldestWithStatus.get('pending', destinationId) as { received_at: number } | undefined,
        this.s.oldestWithStatus.get('retrying', destinationId) as { received_at: number } | undefined,
      ]
        .filter((r): r is { received_at: number } => r !== undefined)
        .map((r) => r.received_at);
      const oldestUnsettledAgeMs = oldest.length === 0 ? null : Math.max(0, now - Math.min(...oldest));
      return { destinationId, unsettled, retrying, failed, oldestUnsettledAgeMs };
    });
  }

  async search(query: EventQuery): Promise<EventPage> {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE), MAX_PAGE);
    const rows = this.selectEvents(query, query.beforeId, limit + 1);
    const events = rows.slice(0, limit).map(toStoredEvent);
    const nextBeforeId = rows.length > limit ? events[events.length - 1]!.id : null;
    return { events, nextBeforeId };
  }

  async getEvent(id: number): Promise<EventDetail | null> {
    const row = this.s.eventById.get(id) as EventRow | undefined;
    if (!row) return null;
    const attempts = (this.s.attemptsForEvent.all(id) as AttemptRow[]).map(toAttemptRecord);
    return { event: toStoredEvent(row), attempts };
  }

  async retryDeadLetters(selector: DeadLetterSelector): Promise<number> {
    let total = 0;
    for (;;) {
      const retried = await this.writes.run(() => {
        const ids = this.deadLetterBatch(selector);
        const now = this.clock.now();
        const lanes = new Map<string, { destinationId: string; laneKey: string; count: number }>();
        for (const id of ids) {
          const row = this.s.retryDeadLetter.get({ now, id }) as { destination_id: string; lane_key: string } | undefined;
          if (!row) continue;
          const key = JSON.stringify([row.destination_id, row.lane_key]);
          const lane = lanes.get(key) ?? { destinationId: row.destination_id, laneKey: row.lane_key, count: 0 };
          lane.count++;
          lanes.set(key, lane);
        }
        for (const lane of lanes.values()) this.s.addRetriedToLane.run({ ...lane, now });
        const count = [...lanes.values()].reduce((sum, l) => sum + l.count, 0);
        if (count > 0) {
          this.workAvailable = true;
          this.backlogCache = null;
        }
        return count;
      });
      total += retried;
      if (retried === 0 || 'ids' in selector) return total;
    }
  }

  async dropDeadLetters(selector: DeadLetterSelector): Promise<number> {
    let total = 0;
    for (;;) {
      const dropped = await this.writes.run(() => {
        let count = 0;
        for (const id of this.deadLetterBatch(selector)) {
          if (this.s.deleteFailedEvent.run(id).changes > 0) {
            this.s.deleteAttempts.run(id);
            count++;
          }
        }
        return count;
      });
      total += dropped;
      if (dropped === 0 || 'ids' in selector) return total;
    }
  }

  async prune(options: PruneOptions): Promise<number> {
    const cutoff = options.olderThan.getTime();
    const statuses = new Set<EventStatus>(options.statuses ?? ['delivered', 'skipped', 'rejected']);
    const statusList = JSON.stringify([...statuses]);
    const batchSize = options.batchSize ?? WORK_BATCH;
    let cursor = 0;
    let total = 0;
    // Walk the primary key in id (≈ arrival) order, one short transaction per batch.
    for (;;) {
      const rows = this.s.scanEvents.all(cursor, batchSize) as Array<{ id: number; received_at: number; status: EventStatus }>;
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.id;
      const doomed = rows.filter((r) => r.received_at < cutoff && statuses.has(r.status)).map((r) => r.id);
      if (doomed.length > 0) {
        total += await this.writes.run(() => {
          let n = 0;
          for (const id of doomed) {
            n += this.s.deleteEventIfStatus.run(id, statusList).changes;
            this.s.deleteAttempts.run(id);
          }
          return n;
        });
      }
      if (rows.some((r) => r.received_at >= cutoff + PRUNE_SCAN_SLACK_MS)) break;
    }
    // Lanes with nothing queued: the next event of that user recreates its row.
    for (;;) {
      const removed = await this.writes.run(() => this.s.deleteIdleLanes.run(this.clock.now(), batchSize).changes);
      if (removed < batchSize) break;
    }
    return total;
  }

  // ---------------------------------------------------------------- destinations

  createDestination(input: NewDestination): Promise<Destination> {
    return this.writes.run(() => {
      const now = this.clock.now();
      const id = input.id ?? randomUUID();
      this.s.insertDestination.run(id, input.name, JSON.stringify(input.settings), now, now);
      return toDestination(this.s.destinationById.get(id) as DestinationRow);
    });
  }

  async getDestination(id: string): Promise<Destination | null> {
    const row = this.s.destinationById.get(id) as DestinationRow | undefined;
    return row ? toDestination(row) : null;
  }

  async listDestinations(): Promise<Destination[]> {
    return (this.s.allDestinations.all() as DestinationRow[]).map(toDestination);
  }

  updateDestination(id: string, patch: DestinationPatch): Promise<Destination | null> {
    return this.writes.run(() => {
      const now = this.clock.now();
      if (patch.name !== undefined) this.s.renameDestination.run(patch.name, now, id);
      if (patch.settings !== undefined) {
        // New settings may fix what paused it (SPEC.md §9): resume, and let the workers look.
        if (this.s.replaceSettings.run(JSON.stringify(patch.settings), now, id).changes > 0) this.workAvailable = true;
      }
      const row = this.s.destinationById.get(id) as DestinationRow | undefined;
      return row ? toDestination(row) : null;
    });
  }

  async deleteDestination(id: string): Promise<boolean> {
    const existed = await this.writes.run(() => {
      const changes = this.s.deleteDestination.run(id).changes;
      this.s.deleteWriteKeysOf.run(id);
      this.s.deleteLanesOf.run(id);
      return changes > 0;
    });
    // Its events go in short batches; without the lanes and destination nothing delivers them.
    let cursor = 0;
    for (;;) {
      const rows = this.s.scanEventsOf.all(cursor, id, WORK_BATCH) as Array<{ id: number }>;
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.id;
      await this.writes.run(() => {
        for (const { id: eventId } of rows) {
          this.s.deleteEvent.run(eventId);
          this.s.deleteAttempts.run(eventId);
        }
      });
    }
    this.backlogCache = null;
    return existed;
  }

  async pauseDestination(id: string, reason: string): Promise<void> {
    await this.writes.run(() => this.s.pauseDestination.run(reason, this.clock.now(), id));
  }

  async resumeDestination(id: string): Promise<void> {
    await this.writes.run(() => {
      if (this.s.resumeDestination.run(this.clock.now(), id).changes > 0) this.workAvailable = true;
    });
  }

  // ---------------------------------------------------------------- write keys

  createWriteKey(destinationId: string, label: string): Promise<CreatedWriteKey> {
    const key = generateWriteKey();
    return this.writes.run(() => {
      this.requireDestination(destinationId);
      const id = randomUUID();
      this.s.insertWriteKey.run(id, hashWriteKey(key), destinationId, label, this.clock.now());
      return { key, record: toWriteKeyRecord(this.s.writeKeyById.get(id) as WriteKeyRow) };
    });
  }

  importWriteKey(destinationId: string, key: string, label: string): Promise<WriteKeyRecord> {
    const hash = hashWriteKey(key);
    return this.writes.run(() => {
      this.requireDestination(destinationId);
      // An existing key is left as it is: a key revoked in the console stays revoked.
      this.s.importWriteKey.run(randomUUID(), hash, destinationId, label, this.clock.now());
      return toWriteKeyRecord(this.s.writeKeyByHash.get(hash) as WriteKeyRow);
    });
  }

  revokeWriteKey(id: string): Promise<boolean> {
    return this.writes.run(() => this.s.revokeWriteKey.run(this.clock.now(), id).changes > 0);
  }

  async listWriteKeys(destinationId?: string): Promise<WriteKeyRecord[]> {
    const rows = (destinationId === undefined ? this.s.allWriteKeys.all() : this.s.writeKeysOf.all(destinationId)) as WriteKeyRow[];
    return rows.map(toWriteKeyRecord);
  }

  async destinationFor(writeKey: string): Promise<string | null> {
    const row = this.s.destinationForKey.get(hashWriteKey(writeKey)) as { destination_id: string } | undefined;
    return row?.destination_id ?? null;
  }

  // ---------------------------------------------------------------- internals

  private requireDestination(id: string): void {
    if (!this.s.destinationById.get(id)) throw new Error(`no destination with id ${JSON.stringify(id)}`);
  }

  private insertRejected(
    destinationId: string,
    messageId: string | null,
    reason: string,
    payload: unknown,
    receivedAt: number,
    now: number,
  ): void {
    const fields = isRecord(payload) ? payload : {};
    const outcome: OutcomeDetail = { state: 'rejected', reason, calls: [], warnings: [] };
    this.s.insertRejected.run({
      destinationId,
      laneKey: laneKeyOf({ userId: stringOrNull(fields.userId), anonymousId: stringOrNull(fields.anonymousId) }),
      messageId,
      type: stringOrNull(fields.type),
      eventName: stringOrNull(fields.event) ?? stringOrNull(fields.name),
      payload: JSON.stringify(payload ?? null),
      reason,
      receivedAt,
      now,
      outcome: JSON.stringify(outcome),
    });
  }

  private deadLetterBatch(selector: DeadLetterSelector): number[] {
    if ('ids' in selector) return selector.ids;
    return this.selectEvents({ ...selector.filter, status: 'failed' }, undefined, WORK_BATCH, true).map((r) => r.id);
  }

  /** Newest first (or oldest first when `ascending`), keyset-paged below beforeId. */
  private selectEvents(filter: EventFilter, beforeId: number | undefined, limit: number, ascending = false): EventRow[] {
    const clauses: string[] = [];
    const params: Record<string, unknown> = { limit };
    if (filter.destinationId !== undefined) {
      clauses.push('destination_id = @destinationId');
      params.destinationId = filter.destinationId;
    }
    if (filter.laneKey !== undefined) {
      clauses.push('lane_key = @laneKey');
      params.laneKey = filter.laneKey;
    }
    if (filter.eventName !== undefined) {
      clauses.push('event_name = @eventName');
      params.eventName = filter.eventName;
    }
    if (filter.type !== undefined) {
      clauses.push('type = @type');
      params.type = filter.type;
    }
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      if (statuses.length === 0) return [];
      clauses.push(`status IN (${statuses.map((_, i) => `@status${i}`).join(', ')})`);
      statuses.forEach((s, i) => (params[`status${i}`] = s));
    }
    if (filter.receivedFrom !== undefined) {
      clauses.push('received_at >= @receivedFrom');
      params.receivedFrom = filter.receivedFrom.getTime();
    }
    if (filter.receivedTo !== undefined) {
      clauses.push('received_at < @receivedTo');
      params.receivedTo = filter.receivedTo.getTime();
    }
    if (beforeId !== undefined) {
      clauses.push('id < @beforeId');
      params.beforeId = beforeId;
    }
    const order = ascending ? 'ASC' : 'DESC';
    if (filter.messageId === undefined) {
      return this.searchStatement(`SELECT * FROM events ${where(clauses)} ORDER BY id ${order} LIMIT @limit`).all(params) as EventRow[];
    }
    // The messageId index covers accepted events only (it is the dedupe index); rejected events
    // with that messageId come from the status index. Two indexed lookups, merged.
    params.messageId = filter.messageId;
    const accepted = this.searchStatement(
      `SELECT * FROM events ${where([...clauses, 'message_id = @messageId', "status <> 'rejected'"])} ORDER BY id ${order} LIMIT @limit`,
    ).all(params) as EventRow[];
    const rejected = this.searchStatement(
      `SELECT * FROM events ${where([...clauses, 'message_id = @messageId', "status = 'rejected'"])} ORDER BY id ${order} LIMIT @limit`,
    ).all(params) as EventRow[];
    return [...accepted, ...rejected].sort((a, b) => (ascending ? a.id - b.id : b.id - a.id)).slice(0, limit);
  }

  private searchStatement(sql: string): Statement {
    let statement = this.searchStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.searchStatements.set(sql, statement);
    }
    return statement;
  }

  private notifyIfWork(): void {
    if (!this.workAvailable) return;
    this.workAvailable = false;
    for (const listener of this.listeners) listener();
  }

  private prepareStatements() {
    const db = this.db;
    const unsettled = "status IN ('pending', 'retrying')";
    return {
      insertEvent: db.prepare(
        `INSERT INTO events (destination_id, lane_key, message_id, type, event_name, payload, status, received_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
      ),
      insertRejected: db.prepare(
        `INSERT INTO events (destination_id, lane_key, message_id, type, event_name, payload, status, last_error,
                             received_at, updated_at, settled_at, outcome)
         VALUES (@destinationId, @laneKey, @messageId, @type, @eventName, @payload, 'rejected', @reason,
                 @receivedAt, @now, @receivedAt, @outcome)`,
      ),
      addToLane: db.prepare(
        // A lane that was empty becomes due now, unless a live lease holds it (its worker either
        // sees the new events or releases the lane, which makes it due).
        `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at) VALUES (@destinationId, @laneKey, @count, @now)
         ON CONFLICT (destination_id, lane_key) DO UPDATE SET
           pending = lanes.pending + excluded.pending,
           next_run_at = CASE WHEN lanes.pending = 0 AND (lanes.leased_by IS NULL OR lanes.lease_until <= @now)
                              THEN @now ELSE lanes.next_run_at END`,
      ),
      addRetriedToLane: db.prepare(
        // A retried dead letter is older than anything queued behind it: due now, lease permitting.
        `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at) VALUES (@destinationId, @laneKey, @count, @now)
         ON CONFLICT (destination_id, lane_key) DO UPDATE SET
           pending = lanes.pending + excluded.pending,
           next_run_at = CASE WHEN lanes.leased_by IS NULL OR lanes.lease_until <= @now THEN @now ELSE lanes.next_run_at END`,
      ),
      backlogTotal: db.prepare('SELECT coalesce(sum(pending), 0) AS n FROM lanes WHERE pending > 0'),
      claimLanes: db.prepare(
        `UPDATE lanes SET leased_by = @worker, lease_until = @until, next_run_at = @until
         WHERE rowid IN (
           -- Without INDEXED BY the planner may walk every lane of the destination and sort them.
           SELECT rowid FROM lanes INDEXED BY lanes_due
           WHERE pending > 0 AND next_run_at <= @now
             AND destination_id IN (SELECT id FROM destinations WHERE paused = 0)
           ORDER BY next_run_at LIMIT @limit)
         RETURNING destination_id, lane_key, pending`,
      ),
      head: db.prepare(
        `SELECT * FROM events WHERE id = (
           SELECT min(id) FROM events WHERE lane_key = @laneKey AND destination_id = @destinationId AND ${unsettled})`,
      ),
      settleFinal: db.prepare(
        `UPDATE events SET status = @status, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, @started),
           next_attempt_at = NULL, last_error = @error, updated_at = @now, settled_at = @now, outcome = @outcome
         WHERE id = @id AND ${unsettled}`,
      ),
      settleRetry: db.prepare(
        `UPDATE events SET status = 'retrying', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, @started),
           next_attempt_at = @next, last_error = @error, updated_at = @now, outcome = @outcome
         WHERE id = @id AND ${unsettled}`,
      ),
      // An attempt that only found the account unusable does not start the retry window.
      settlePaused: db.prepare(
        `UPDATE events SET attempts = attempts + 1, last_error = @error, updated_at = @now, outcome = @outcome
         WHERE id = @id AND ${unsettled}`,
      ),
      laneSettled: db.prepare('UPDATE lanes SET pending = max(pending - 1, 0) WHERE destination_id = ? AND lane_key = ?'),
      laneRetryAt: db.prepare(
        `UPDATE lanes SET next_run_at = @next, leased_by = NULL, lease_until = NULL
         WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
      ),
      renewLease: db.prepare(
        `UPDATE lanes SET lease_until = @until, next_run_at = @until
         WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
      ),
      // Recounting on release heals a drifted counter, so an empty lane cannot stay due forever.
      releaseLane: db.prepare(
        `UPDATE lanes SET leased_by = NULL, lease_until = NULL, next_run_at = @now,
           pending = (SELECT count(*) FROM events e
                      WHERE e.lane_key = @laneKey AND e.destination_id = @destinationId AND e.${unsettled})
         WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
      ),
      attemptsOf: db.prepare('SELECT attempts FROM events WHERE id = ?'),
      insertAttempt: db.prepare(
        `INSERT INTO attempts (event_id, attempt, started_at, duration_ms, state, error, calls, warnings, worker_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      destinationsWithEvents: db.prepare('SELECT id FROM destinations ORDER BY id'),
      unsettledOf: db.prepare('SELECT coalesce(sum(pending), 0) AS n FROM lanes WHERE destination_id = ?'),
      countStatus: db.prepare('SELECT count(*) AS n FROM events WHERE status = ? AND destination_id = ?'),
      oldestWithStatus: db.prepare('SELECT received_at FROM events WHERE status = ? AND destination_id = ? ORDER BY id LIMIT 1'),
      eventById: db.prepare('SELECT * FROM events WHERE id = ?'),
      attemptsForEvent: db.prepare('SELECT * FROM attempts WHERE event_id = ? ORDER BY id'),
      retryDeadLetter: db.prepare(
        `UPDATE events SET status = 'pending', next_attempt_at = @now, first_attempt_at = NULL, settled_at = NULL, updated_at = @now
         WHERE id = @id AND status = 'failed' RETURNING destination_id, lane_key`,
      ),
      deleteFailedEvent: db.prepare("DELETE FROM events WHERE id = ? AND status = 'failed'"),
      deleteEvent: db.prepare('DELETE FROM events WHERE id = ?'),
      deleteEventIfStatus: db.prepare('DELETE FROM events WHERE id = ? AND status IN (SELECT value FROM json_each(?))'),
      deleteAttempts: db.prepare('DELETE FROM attempts WHERE event_id = ?'),
      scanEvents: db.prepare('SELECT id, received_at, status FROM events WHERE id > ? ORDER BY id LIMIT ?'),
      scanEventsOf: db.prepare('SELECT id FROM events WHERE id > ? AND destination_id = ? ORDER BY id LIMIT ?'),
      deleteIdleLanes: db.prepare(
        `DELETE FROM lanes WHERE rowid IN (
           SELECT rowid FROM lanes WHERE pending = 0 AND (leased_by IS NULL OR lease_until <= ?) LIMIT ?)`,
      ),
      insertDestination: db.prepare(
        'INSERT INTO destinations (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      ),
      destinationById: db.prepare('SELECT * FROM destinations WHERE id = ?'),
      allDestinations: db.prepare('SELECT * FROM destinations ORDER BY created_at, id'),
      renameDestination: db.prepare('UPDATE destinations SET name = ?, updated_at = ? WHERE id = ?'),
      replaceSettings: db.prepare(
        `UPDATE destinations SET settings = ?, version = version + 1, paused = 0, pause_reason = NULL, updated_at = ?
         WHERE id = ?`,
      ),
      deleteDestination: db.prepare('DELETE FROM destinations WHERE id = ?'),
      deleteWriteKeysOf: db.prepare('DELETE FROM write_keys WHERE destination_id = ?'),
      deleteLanesOf: db.prepare('DELETE FROM lanes WHERE destination_id = ?'),
      pauseDestination: db.prepare('UPDATE destinations SET paused = 1, pause_reason = ?, updated_at = ? WHERE id = ?'),
      pauseDestinationAtVersion: db.prepare(
        `UPDATE destinations SET paused = 1, pause_reason = @reason, updated_at = @now
         WHERE id = @id AND (@version IS NULL OR version = @version)`,
      ),
      resumeDestination: db.prepare(
        'UPDATE destinations SET paused = 0, pause_reason = NULL, updated_at = ? WHERE id = ? AND paused = 1',
      ),
      insertWriteKey: db.prepare(
        'INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      importWriteKey: db.prepare(
        `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key_hash) DO NOTHING`,
      ),
      writeKeyById: db.prepare('SELECT id, destination_id, label, created_at, revoked_at FROM write_keys WHERE id = ?'),
      writeKeyByHash: db.prepare('SELECT id, destination_id, label, created_at, revoked_at FROM write_keys WHERE key_hash = ?'),
      revokeWriteKey: db.prepare('UPDATE write_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      allWriteKeys: db.prepare('SELECT id, destination_id, label, created_at, revoked_at FROM write_keys ORDER BY created_at, id'),
      writeKeysOf: db.prepare(
        'SELECT id, destination_id, label, created_at, revoked_at FROM write_keys WHERE destination_id = ? ORDER BY created_at, id',
      ),
      destinationForKey: db.prepare(
        `SELECT k.destination_id FROM write_keys k JOIN destinations d ON d.id = k.destination_id
         WHERE k.key_hash = ? AND k.revoked_at IS NULL`,
      ),
    };
  }
}

function where(clauses: string[]): string {
  return clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
}

function eventNameOf(event: SegmentEvent): string | null {
  if (typeof event.event === 'string') return event.event;
  if (typeof event.name === 'string') return event.name;
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function date(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    destinationId: row.destination_id,
    laneKey: row.lane_key,
    messageId: row.message_id,
    type: row.type,
    eventName: row.event_name,
    payload: JSON.parse(row.payload) as unknown,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: date(row.next_attempt_at),
    firstAttemptAt: date(row.first_attempt_at),
    lastError: row.last_error,
    receivedAt: new Date(row.received_at),
    updatedAt: new Date(row.updated_at),
    settledAt: date(row.settled_at),
    outcome: row.outcome === null ? null : (JSON.parse(row.outcome) as OutcomeDetail),
  };
}

function toAttemptRecord(row: AttemptRow): AttemptRecord {
  return {
    eventId: row.event_id,
    attempt: row.attempt,
    startedAt: new Date(row.started_at),
    durationMs: row.duration_ms,
    state: row.state,
    error: row.error,
    calls: JSON.parse(row.calls) as CallRecord[],
    warnings: JSON.parse(row.warnings) as string[],
    workerId: row.worker_id,
  };
}

function toDestination(row: DestinationRow): Destination {
  return {
    id: row.id,
    name: row.name,
    settings: JSON.parse(row.settings) as DestinationSettings,
    paused: row.paused === 1,
    pauseReason: row.pause_reason,
    version: row.version,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toWriteKeyRecord(row: WriteKeyRow): WriteKeyRecord {
  return {
    id: row.id,
    destinationId: row.destination_id,
    label: row.label,
    createdAt: new Date(row.created_at),
    revokedAt: date(row.revoked_at),
  };
}
