import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import type { CallRecord } from '../sailthru/types.ts';
import type { DestinationSettings } from '../destination/settings.ts';
import type { OutcomeState } from '../destination/outcome.ts';
import { laneKeyOf, type SegmentEvent } from '../segment/event.ts';
import type { AppendResult, IngestBatch } from './ingest.ts';
import { promiseFrom } from './promise-from.ts';
import { openSqliteConnection, type SqliteDurability } from './sqlite-connection.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
import { InlineWriteChannel, ThreadWriteChannel, type WriteChannel } from './sqlite-write-channel.ts';
import type { AppendRows, EventRowInput, RejectedRowInput } from './sqlite-writes.ts';
import {
  systemClock,
  type AttemptRecord,
  type Clock,
  type ConsoleSessionRecord,
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
  /** Extra gathering time per group commit, ms; 0 = the next turn of the writer's event loop. */
  groupCommitDelayMs?: number;
  /** How long backlog() may serve a cached total, ms (it is asked on every ingest request). */
  backlogCacheMs?: number;
  /**
   * `thread` (default): writes run on a writer thread, so commits and fsyncs never block the
   * thread serving HTTP. `inline`: on the calling thread (always so for `:memory:`).
   */
  writer?: 'thread' | 'inline';
  /** The writer thread died (every write fails from then on); log it and restart the process. */
  onError?: (error: unknown) => void;
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
/** How far out of arrival order an id may be (batches commit a few ms after they are received). */
const ID_TIME_SLACK_MS = 60_000;

/** Opens (creating when needed) and migrates a SQLite event store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteEventStore> {
  const store = new SqliteEventStore(options);
  await store.migrate();
  return store;
}

/**
 * The embedded event store. The main thread's connection reads (WAL: never blocked by the
 * writer); every write goes through one WriteChannel, group-committed with synchronous=FULL,
 * and resolves only once on disk. Times come from the injected clock on the calling side.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database;
  private readonly clock: Clock;
  private channel: WriteChannel | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly backlogCacheMs: number;
  private backlogCache: { value: number; at: number } | null = null;
  private readonly searchStatements = new Map<string, Statement>();
  private opening: Promise<void> | null = null;
  private closed = false;
  private s!: ReturnType<SqliteEventStore['prepareReads']>;

  constructor(private readonly options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = openSqliteConnection(options.path);
    this.clock = options.clock ?? systemClock;
    this.backlogCacheMs = options.backlogCacheMs ?? 1000;
  }

  migrate(): Promise<void> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<void> {
    // Migrations run here, before the writer starts, so it only ever sees the current schema.
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
    this.s = this.prepareReads();
    const delay = this.options.groupCommitDelayMs ?? 0;
    const inline = this.options.writer === 'inline' || this.options.path === ':memory:';
    this.channel = inline
      ? new InlineWriteChannel(this.db, delay)
      : await ThreadWriteChannel.start({
          path: this.options.path,
          groupCommitDelayMs: delay,
          ...(this.options.onError ? { onError: this.options.onError } : {}),
        });
  }

  /** Group commits so far. */
  get commitCount(): number {
    return this.channel?.commits ?? 0;
  }

  /** The durability settings of the writing connection (synchronous: 2 = FULL). */
  pragmas(): SqliteDurability {
    return this.write.durability;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opening?.catch(() => {});
    await this.channel?.close();
    this.db.close();
  }

  private get write(): WriteChannel {
    if (this.closed) throw new Error('the event store is closed');
    if (!this.channel) throw new Error('the event store is not open yet: await migrate()');
    return this.channel;
  }

  // ---------------------------------------------------------------- ingest

  /**
   * Not async on purpose: the batch and its rows are only reachable until they are handed to the
   * writer, not while the commit is awaited (an async function keeps its whole frame alive across
   * an await), so under full ingest they die young instead of being promoted.
   */
  append(batch: IngestBatch): Promise<AppendResult> {
    return this.appended(promiseFrom(() => this.write.call('append', this.appendRowsOf(batch))));
  }

  private appendRowsOf(batch: IngestBatch): AppendRows {
    const accepted: EventRowInput[] = [];
    const rejected: RejectedRowInput[] = [];
    for (const event of batch.accepted) {
      const laneKey = laneKeyOf(event);
      if (laneKey === null) {
        // Ingest should have rejected it; keep it visible rather than lose it or break a lane.
        rejected.push(rejectedRow(event.messageId, 'neither userId nor anonymousId', event));
        continue;
      }
      accepted.push({ laneKey, messageId: event.messageId, type: event.type, eventName: eventNameOf(event), payload: JSON.stringify(event) });
    }
    for (const r of batch.rejected) rejected.push(rejectedRow(r.messageId, r.reason, r.payload));
    return { destinationId: batch.destinationId, receivedAt: batch.receivedAt.getTime(), now: this.clock.now(), accepted, rejected };
  }

  private async appended(writing: Promise<AppendResult>): Promise<AppendResult> {
    const result = await writing;
    if (result.stored > 0) {
      if (this.backlogCache) this.backlogCache.value += result.stored;
      this.notify();
    }
    return result;
  }

  async backlog(): Promise<number> {
    const now = Date.now();
    if (this.backlogCache && now - this.backlogCache.at < this.backlogCacheMs) return this.backlogCache.value;
    const value = (this.s.backlogTotal.get() as { n: number }).n;
    this.backlogCache = { value, at: now };
    return value;
  }

  // ---------------------------------------------------------------- lane queue

  async claimLanes(workerId: string, limit: number, leaseMs: number): Promise<LaneLease[]> {
    const now = this.clock.now();
    const until = now + leaseMs;
    const rows = await this.write.call('claimLanes', workerId, limit, until, now);
    return rows.map((r) => ({ ...r, leaseUntil: new Date(until) }));
  }

  async head(lane: LaneRef): Promise<QueuedEvent | null> {
    const row = this.s.head.get({ destinationId: lane.destinationId, laneKey: lane.laneKey }) as EventRow | undefined;
    return row ? (toStoredEvent(row) as QueuedEvent) : null;
  }

  async settle(input: SettleInput): Promise<SettleResult> {
    const { applied, final } = await this.write.call('settle', {
      eventId: input.event.id,
      destinationId: input.event.destinationId,
      laneKey: input.event.laneKey,
      workerId: input.workerId,
      settlement: input.settlement,
      startedAt: input.attempt.startedAt.getTime(),
      durationMs: input.attempt.durationMs,
      calls: input.attempt.calls,
      warnings: input.attempt.warnings,
      now: this.clock.now(),
    });
    if (final && this.backlogCache) this.backlogCache.value = Math.max(0, this.backlogCache.value - 1);
    return { applied };
  }

  async renewLeases(workerId: string, lanes: LaneRef[], leaseMs: number): Promise<LaneRef[]> {
    if (lanes.length === 0) return [];
    const refs = lanes.map((l) => ({ destinationId: l.destinationId, laneKey: l.laneKey }));
    return this.write.call('renewLeases', workerId, refs, this.clock.now() + leaseMs);
  }

  async releaseLane(workerId: string, lane: LaneRef): Promise<void> {
    const ref = { destinationId: lane.destinationId, laneKey: lane.laneKey };
    if (await this.write.call('releaseLane', workerId, ref, this.clock.now())) this.notify();
  }

  onWorkAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- delivery log

  async backlogByDestination(): Promise<DestinationBacklog[]> {
    const now = this.clock.now();
    const ids = (this.s.destinationIds.all() as Array<{ id: string }>).map((r) => r.id);
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

  // ---------------------------------------------------------------- console sessions

  async createSession(record: ConsoleSessionRecord, staleBefore: number, keep: number): Promise<void> {
    await this.write.call('createSession', record, staleBefore, keep);
  }

  async getSession(idHash: string): Promise<ConsoleSessionRecord | null> {
    return (this.s.getSession.get(idHash) as ConsoleSessionRecord | undefined) ?? null;
  }

  async touchSession(idHash: string, lastSeen: number): Promise<void> {
    await this.write.call('touchSession', idHash, lastSeen);
  }

  async updateSessionState(idHash: string, expected: string, state: string, lastSeen: number): Promise<boolean> {
    return this.write.call('updateSessionState', idHash, expected, state, lastSeen);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.write.call('deleteSession', idHash);
  }

  async wakeRetryingLanes(destinationId: string): Promise<number> {
    const woken = await this.write.call('wakeRetryingLanes', destinationId, this.clock.now());
    if (woken > 0) this.notify();
    return woken;
  }

  async retryDeadLetters(selector: DeadLetterSelector): Promise<number> {
    let total = 0;
    let afterId = 0;
    for (;;) {
      const ids = this.deadLetterBatch(selector, afterId);
      if (ids.length === 0) break;
      const retried = await this.write.call('retryDeadLetters', ids, this.clock.now());
      if (retried > 0) {
        this.backlogCache = null;
        this.notify();
      }
      total += retried;
      if ('ids' in selector) break;
      afterId = ids[ids.length - 1]!;
    }
    return total;
  }

  async dropDeadLetters(selector: DeadLetterSelector): Promise<number> {
    let total = 0;
    let afterId = 0;
    for (;;) {
      const ids = this.deadLetterBatch(selector, afterId);
      if (ids.length === 0) break;
      total += await this.write.call('dropDeadLetters', ids);
      if ('ids' in selector) break;
      afterId = ids[ids.length - 1]!;
    }
    return total;
  }

  async prune(options: PruneOptions): Promise<number> {
    const cutoff = options.olderThan.getTime();
    const statuses = [...new Set<EventStatus>(options.statuses ?? ['delivered', 'skipped', 'rejected'])];
    const batchSize = options.batchSize ?? WORK_BATCH;
    let cursor = 0;
    let total = 0;
    // Walk the primary key in id (≈ arrival) order, one short transaction per batch.
    for (;;) {
      const rows = this.s.scanEvents.all(cursor, batchSize) as Array<{ id: number; received_at: number; status: EventStatus }>;
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.id;
      const doomed = rows.filter((r) => r.received_at < cutoff && statuses.includes(r.status)).map((r) => r.id);
      // The writer deletes only rows still in those states (a dead letter retried meanwhile stays).
      if (doomed.length > 0) total += await this.write.call('deleteEventsWithStatus', doomed, statuses);
      if (rows.some((r) => r.received_at >= cutoff + PRUNE_SCAN_SLACK_MS)) break;
    }
    // Lanes with nothing queued: the next event of that user recreates its row.
    while ((await this.write.call('deleteIdleLanes', this.clock.now(), batchSize)) >= batchSize);
    return total;
  }

  // ---------------------------------------------------------------- destinations

  async createDestination(input: NewDestination): Promise<Destination> {
    const id = input.id ?? randomUUID();
    await this.write.call('createDestination', { id, name: input.name, settings: JSON.stringify(input.settings), now: this.clock.now() });
    return toDestination(this.s.destinationById.get(id) as DestinationRow);
  }

  async getDestination(id: string): Promise<Destination | null> {
    const row = this.s.destinationById.get(id) as DestinationRow | undefined;
    return row ? toDestination(row) : null;
  }

  async listDestinations(): Promise<Destination[]> {
    return (this.s.allDestinations.all() as DestinationRow[]).map(toDestination);
  }

  async updateDestination(id: string, patch: DestinationPatch): Promise<Destination | null> {
    const settings = patch.settings === undefined ? undefined : JSON.stringify(patch.settings);
    // New settings may fix what paused it (SPEC.md §9): they resume it; let the workers look.
    if (await this.write.call('updateDestination', id, patch.name, settings, this.clock.now())) this.notify();
    const row = this.s.destinationById.get(id) as DestinationRow | undefined;
    return row ? toDestination(row) : null;
  }

  async deleteDestination(id: string): Promise<boolean> {
    const existed = await this.write.call('deleteDestination', id);
    // Its events go in short batches; without the lanes and destination nothing delivers them.
    let cursor = 0;
    for (;;) {
      const ids = (this.s.scanEventsOf.all(cursor, id, WORK_BATCH) as Array<{ id: number }>).map((r) => r.id);
      if (ids.length === 0) break;
      cursor = ids[ids.length - 1]!;
      await this.write.call('deleteEvents', ids);
    }
    this.backlogCache = null;
    return existed;
  }

  async pauseDestination(id: string, reason: string): Promise<void> {
    await this.write.call('pauseDestination', id, reason, this.clock.now());
  }

  async resumeDestination(id: string): Promise<void> {
    if (await this.write.call('resumeDestination', id, this.clock.now())) this.notify();
  }

  // ---------------------------------------------------------------- write keys

  async createWriteKey(destinationId: string, label: string): Promise<CreatedWriteKey> {
    const key = generateWriteKey();
    const id = randomUUID();
    await this.write.call('insertWriteKey', id, hashWriteKey(key), destinationId, label, this.clock.now());
    return { key, record: toWriteKeyRecord(this.s.writeKeyById.get(id) as WriteKeyRow) };
  }

  async importWriteKey(destinationId: string, key: string, label: string): Promise<WriteKeyRecord> {
    const hash = hashWriteKey(key);
    await this.write.call('importWriteKey', randomUUID(), hash, destinationId, label, this.clock.now());
    return toWriteKeyRecord(this.s.writeKeyByHash.get(hash) as WriteKeyRow);
  }

  revokeWriteKey(id: string): Promise<boolean> {
    return this.write.call('revokeWriteKey', id, this.clock.now());
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

  /** The next ids a dead-letter selector covers, oldest first, after `afterId`. */
  private deadLetterBatch(selector: DeadLetterSelector, afterId: number): number[] {
    if ('ids' in selector) return selector.ids;
    const rows = this.selectEvents({ ...selector.filter, status: 'failed' }, undefined, WORK_BATCH, afterId);
    return rows.map((r) => r.id);
  }

  /**
   * Newest first, keyset-paged below beforeId; or, with `ascendingAfter`, oldest first above it
   * (batch work over dead letters).
   */
  private selectEvents(filter: EventFilter, beforeId: number | undefined, limit: number, ascendingAfter?: number): EventRow[] {
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
    // Ids follow arrival, so a time range is also an id range (give or take the slack): the
    // search walks only that stretch of the primary key instead of the whole table.
    if (filter.receivedFrom !== undefined) {
      clauses.push('received_at >= @receivedFrom');
      params.receivedFrom = filter.receivedFrom.getTime();
      const fromId = this.firstIdReceivedAtOrAfter(filter.receivedFrom.getTime() - ID_TIME_SLACK_MS);
      if (fromId === null) return [];
      clauses.push('id >= @fromId');
      params.fromId = fromId;
    }
    if (filter.receivedTo !== undefined) {
      clauses.push('received_at < @receivedTo');
      params.receivedTo = filter.receivedTo.getTime();
      const toId = this.firstIdReceivedAtOrAfter(filter.receivedTo.getTime() + ID_TIME_SLACK_MS);
      if (toId !== null) {
        clauses.push('id < @toId');
        params.toId = toId;
      }
    }
    if (beforeId !== undefined) {
      clauses.push('id < @beforeId');
      params.beforeId = beforeId;
    }
    if (ascendingAfter !== undefined) {
      clauses.push('id > @afterId');
      params.afterId = ascendingAfter;
    }
    const ascending = ascendingAfter !== undefined;
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

  /** Binary search over the primary key for the first event received at or after `ms`. */
  private firstIdReceivedAtOrAfter(ms: number): number | null {
    const bounds = this.s.idBounds.get() as { lo: number | null; hi: number | null };
    if (bounds.lo === null || bounds.hi === null) return null;
    let lo = bounds.lo;
    let hi = bounds.hi + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      // The first existing row at or after mid (ids have gaps after deletes).
      const row = this.s.rowAtOrAfter.get(mid) as { id: number; received_at: number } | undefined;
      if (!row) {
        hi = mid;
      } else if (row.received_at >= ms) {
        hi = mid;
      } else {
        lo = row.id + 1;
      }
    }
    // lo only ever lands on a row at or after `ms`, or past the last row.
    const first = this.s.rowAtOrAfter.get(lo) as { id: number } | undefined;
    return first?.id ?? null;
  }

  private searchStatement(sql: string): Statement {
    let statement = this.searchStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.searchStatements.set(sql, statement);
    }
    return statement;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private prepareReads() {
    const db = this.db;
    return {
      backlogTotal: db.prepare('SELECT coalesce(sum(pending), 0) AS n FROM lanes WHERE pending > 0'),
      getSession: db.prepare(
        'SELECT id_hash AS idHash, csrf, created_at AS createdAt, last_seen AS lastSeen, state FROM console_sessions WHERE id_hash = ?',
      ),
      head: db.prepare(
        `SELECT * FROM events WHERE id = (
           SELECT min(id) FROM events WHERE lane_key = @laneKey AND destination_id = @destinationId
             AND status IN ('pending', 'retrying'))`,
      ),
      destinationIds: db.prepare('SELECT id FROM destinations ORDER BY id'),
      unsettledOf: db.prepare('SELECT coalesce(sum(pending), 0) AS n FROM lanes WHERE destination_id = ?'),
      countStatus: db.prepare('SELECT count(*) AS n FROM events WHERE status = ? AND destination_id = ?'),
      oldestWithStatus: db.prepare('SELECT received_at FROM events WHERE status = ? AND destination_id = ? ORDER BY id LIMIT 1'),
      eventById: db.prepare('SELECT * FROM events WHERE id = ?'),
      attemptsForEvent: db.prepare('SELECT * FROM attempts WHERE event_id = ? ORDER BY id'),
      idBounds: db.prepare('SELECT min(id) AS lo, max(id) AS hi FROM events'),
      rowAtOrAfter: db.prepare('SELECT id, received_at FROM events WHERE id >= ? ORDER BY id LIMIT 1'),
      scanEvents: db.prepare('SELECT id, received_at, status FROM events WHERE id > ? ORDER BY id LIMIT ?'),
      scanEventsOf: db.prepare('SELECT id FROM events WHERE id > ? AND destination_id = ? ORDER BY id LIMIT ?'),
      destinationById: db.prepare('SELECT * FROM destinations WHERE id = ?'),
      allDestinations: db.prepare('SELECT * FROM destinations ORDER BY created_at, id'),
      writeKeyById: db.prepare('SELECT id, destination_id, label, created_at, revoked_at FROM write_keys WHERE id = ?'),
      writeKeyByHash: db.prepare('SELECT id, destination_id, label, created_at, revoked_at FROM write_keys WHERE key_hash = ?'),
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

function rejectedRow(messageId: string | null, reason: string, payload: unknown): RejectedRowInput {
  const fields = isRecord(payload) ? payload : {};
  return {
    laneKey: laneKeyOf({ userId: stringOrNull(fields.userId), anonymousId: stringOrNull(fields.anonymousId) }),
    messageId,
    type: stringOrNull(fields.type),
    eventName: stringOrNull(fields.event) ?? stringOrNull(fields.name),
    payload: JSON.stringify(payload ?? null),
    reason,
  };
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
