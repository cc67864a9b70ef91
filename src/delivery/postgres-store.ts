import { createHash, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { CallRecord } from '../sailthru/types.ts';
import type { DestinationSettings } from '../destination/settings.ts';
import type { OutcomeState } from '../destination/outcome.ts';
import type { AppendResult, IngestBatch } from './ingest.ts';
import { PgAppendQueue } from './postgres-append.ts';
import { clientConfig, createPool, inTransaction, pgText, queryRetrying, type PostgresConnectionOptions } from './postgres-connection.ts';
import { migratePostgres } from './postgres-migrate.ts';
import { PgWorkSignal } from './postgres-work-signal.ts';
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

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:5432/db` (without the `schema` / `pool_max` parameters). */
  url: string;
  /** Schema for the tables, created when missing; default: the server's search_path (public). */
  schema?: string;
  /** Connections in this process's pool; default 10. */
  poolMax?: number;
  clock?: Clock;
  /** How long backlog() may serve a cached total, ms (it is asked on every ingest request). */
  backlogCacheMs?: number;
  /** Errors that do not reach a caller: idle connections dropped, a lost LISTEN, a failed NOTIFY. */
  onError?: (error: unknown) => void;
}

interface EventRow {
  id: number;
  destination_id: string;
  lane_key: string | null;
  message_id: string | null;
  type: string | null;
  event_name: string | null;
  payload: unknown;
  status: EventStatus;
  attempts: number;
  next_attempt_at: number | null;
  first_attempt_at: number | null;
  last_error: string | null;
  received_at: number;
  updated_at: number;
  settled_at: number | null;
  outcome: OutcomeDetail | null;
}

interface AttemptRow {
  event_id: number;
  attempt: number;
  started_at: number;
  duration_ms: number;
  state: OutcomeState;
  error: string | null;
  calls: CallRecord[];
  warnings: string[];
  worker_id: string;
}

interface DestinationRow {
  id: string;
  name: string;
  settings: DestinationSettings;
  paused: boolean;
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
const UNSETTLED = "status IN ('pending', 'retrying')";
const WRITE_KEY_COLUMNS = 'id, destination_id, label, created_at, revoked_at';

/** Opens (creating the schema when needed) and migrates a PostgreSQL event store. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresEventStore> {
  const store = new PostgresEventStore(options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * The event store for many processes on many machines: the same tables and semantics as the
 * SQLite store, on a `pg` pool. Workers claim lanes with FOR UPDATE SKIP LOCKED under leases;
 * appends are group-committed; LISTEN/NOTIFY tells idle workers elsewhere that work arrived.
 * Every time comes from the injected clock, so the processes' clocks must agree to well within
 * a lease (NTP does).
 */
export class PostgresEventStore implements EventStore {
  private readonly clock: Clock;
  private readonly appends: PgAppendQueue;
  private signal: PgWorkSignal;
  private readonly backlogCacheMs: number;
  private backlogCache: { value: number; at: number } | null = null;
  private readonly connection: PostgresConnectionOptions;
  private readonly onError: (error: unknown) => void;
  private migrated: Promise<void> | null = null;
  private closed = false;
  /** The pool; shared with the PostgreSQL rate limiter (shared-rate-limit.ts). */
  readonly pool: Pool;

  constructor(options: PostgresStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.backlogCacheMs = options.backlogCacheMs ?? 1000;
    this.onError = options.onError ?? (() => {});
    this.connection = {
      connectionString: options.url,
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.poolMax !== undefined ? { max: options.poolMax } : {}),
      onError: this.onError,
    };
    this.pool = createPool(this.connection);
    this.appends = new PgAppendQueue(this.pool, this.clock, (stored) => {
      if (this.backlogCache) this.backlogCache.value += stored;
      this.signal.announce();
    });
    this.signal = this.makeSignal(options.schema ?? 'public');
  }

  /** Append transactions committed so far (each carries every batch that arrived meanwhile). */
  get commitCount(): number {
    return this.appends.commits;
  }

  /** The schema the tables are in (the configured one, or the search_path's first). */
  get schema(): string | undefined {
    return this.connection.schema;
  }

  /** The LISTEN/NOTIFY channel of this schema's queue. */
  get channel(): string {
    return this.signal.channel;
  }

  migrate(): Promise<void> {
    this.migrated ??= migratePostgres(this.pool, this.connection.schema).then((schema) => {
      // Processes whose search_path differs but which land on one schema must share a channel.
      if (schema !== (this.connection.schema ?? 'public')) this.signal = this.makeSignal(schema);
    });
    this.migrated.catch(() => {
      this.migrated = null;
    });
    return this.migrated;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appends.close();
    await this.signal.close();
    await this.pool.end();
  }

  /** Resolves once this process hears other processes' NOTIFYs (tests). */
  listening(): Promise<void> {
    return this.signal.listening();
  }

  // ---------------------------------------------------------------- ingest

  append(batch: IngestBatch): Promise<AppendResult> {
    return this.appends.append(batch);
  }

  async backlog(): Promise<number> {
    const now = Date.now();
    if (this.backlogCache && now - this.backlogCache.at < this.backlogCacheMs) return this.backlogCache.value;
    const { rows } = await this.pool.query<{ n: number }>('SELECT coalesce(sum(pending), 0)::bigint AS n FROM lanes WHERE pending > 0');
    const value = rows[0]!.n;
    this.backlogCache = { value, at: now };
    return value;
  }

  // ---------------------------------------------------------------- lane queue

  async claimLanes(workerId: string, limit: number, leaseMs: number): Promise<LaneLease[]> {
    const now = this.clock.now();
    const until = now + leaseMs;
    const { rows } = await queryRetrying<{ destination_id: string; lane_key: string; pending: number; due_at: number }>(this.pool, {
      name: 'sd-claim-lanes',
      // SKIP LOCKED: concurrent claimers pass over each other's rows instead of waiting, and a
      // row another claim has just leased fails the re-check (next_run_at is now in the future).
      text: `WITH due AS (
               SELECT l.destination_id, l.lane_key, l.next_run_at
               FROM lanes l
               WHERE l.pending > 0 AND l.next_run_at <= $3
                 AND EXISTS (SELECT 1 FROM destinations d WHERE d.id = l.destination_id AND NOT d.paused)
               ORDER BY l.next_run_at
               LIMIT $4
               FOR UPDATE OF l SKIP LOCKED
             )
             UPDATE lanes SET leased_by = $1, lease_until = $2, next_run_at = $2
             FROM due
             WHERE lanes.destination_id = due.destination_id AND lanes.lane_key = due.lane_key
             RETURNING lanes.destination_id, lanes.lane_key, lanes.pending, due.next_run_at AS due_at`,
      values: [workerId, until, now, limit],
    });
    return rows
      .sort((a, b) => a.due_at - b.due_at)
      .map((r) => ({ destinationId: r.destination_id, laneKey: r.lane_key, pending: r.pending, leaseUntil: new Date(until) }));
  }

  async head(lane: LaneRef): Promise<QueuedEvent | null> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'sd-head',
      text: `SELECT * FROM events WHERE destination_id = $1 AND lane_key = $2 AND ${UNSETTLED} ORDER BY id LIMIT 1`,
      values: [pgText(lane.destinationId), pgText(lane.laneKey)],
    });
    return rows[0] ? (toStoredEvent(rows[0]) as QueuedEvent) : null;
  }

  async settle(input: SettleInput): Promise<SettleResult> {
    const now = this.clock.now();
    const { event, settlement, attempt, workerId } = input;
    const started = attempt.startedAt.getTime();
    const destinationId = pgText(event.destinationId);
    const laneKey = pgText(event.laneKey);
    // Each settlement is one statement: the event, its lane and the attempt row change together.
    // $1 event id, $2 started, $3 now, $4 error; the attempt row: $5..$9; then per kind.
    const attemptInsert = `INSERT INTO attempts (event_id, attempt, started_at, duration_ms, state, error, calls, warnings, worker_id)
       SELECT $1, greatest(coalesce((SELECT attempts FROM e), (SELECT attempts FROM events WHERE id = $1), 0), 1),
              $2, $5, $6, $4, $7::json, $8::json, $9`;
    const common = [
      event.id,
      started,
      now,
      null as string | null,
      Math.round(attempt.durationMs),
      settlement.state === 'retrying' ? 'retry' : settlement.state,
      JSON.stringify(attempt.calls),
      JSON.stringify(attempt.warnings),
      pgText(workerId),
    ];
    let query: { name: string; text: string; values: unknown[] };
    switch (settlement.state) {
      case 'delivered':
      case 'skipped':
      case 'failed': {
        const reason = settlement.state === 'delivered' ? undefined : settlement.reason;
        common[3] = settlement.state === 'failed' ? pgText(settlement.reason) : null;
        const outcome: OutcomeDetail = { state: settlement.state, reason, calls: attempt.calls, warnings: attempt.warnings };
        query = {
          name: 'sd-settle-final',
          text: `WITH e AS (
                   UPDATE events SET status = $10, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, $2),
                     next_attempt_at = NULL, last_error = $4, updated_at = $3, settled_at = $3, outcome = $11::json
                   WHERE id = $1 AND ${UNSETTLED}
                   RETURNING attempts
                 ), lane AS (
                   UPDATE lanes SET pending = greatest(pending - 1, 0)
                   WHERE destination_id = $12 AND lane_key = $13 AND EXISTS (SELECT 1 FROM e)
                 ), attempt AS (${attemptInsert})
                 SELECT count(*)::int AS applied FROM e`,
          values: [...common, settlement.state, JSON.stringify(outcome), destinationId, laneKey],
        };
        break;
      }
      case 'retrying': {
        common[3] = pgText(settlement.reason);
        const outcome: OutcomeDetail = { state: 'retry', reason: settlement.reason, calls: attempt.calls, warnings: attempt.warnings };
        query = {
          name: 'sd-settle-retry',
          text: `WITH e AS (
                   UPDATE events SET status = 'retrying', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, $2),
                     next_attempt_at = $10, last_error = $4, updated_at = $3, outcome = $11::json
                   WHERE id = $1 AND ${UNSETTLED}
                   RETURNING attempts
                 ), lane AS (
                   UPDATE lanes SET next_run_at = $10, leased_by = NULL, lease_until = NULL
                   WHERE destination_id = $12 AND lane_key = $13 AND leased_by = $9
                 ), attempt AS (${attemptInsert})
                 SELECT count(*)::int AS applied FROM e`,
          values: [...common, settlement.nextAttemptAt.getTime(), JSON.stringify(outcome), destinationId, laneKey],
        };
        break;
      }
      case 'paused': {
        common[3] = pgText(settlement.reason);
        const outcome: OutcomeDetail = { state: 'paused', reason: settlement.reason, calls: attempt.calls, warnings: attempt.warnings };
        query = {
          name: 'sd-settle-paused',
          // An attempt that only found the account unusable does not start the retry window.
          // The lane goes back due now; claims pass over it while its destination is paused.
          text: `WITH e AS (
                   UPDATE events SET attempts = attempts + 1, last_error = $4, updated_at = $3, outcome = $10::json
                   WHERE id = $1 AND ${UNSETTLED}
                   RETURNING attempts
                 ), d AS (
                   -- Only while the settings are the version the attempt used: a fix made meanwhile wins.
                   UPDATE destinations SET paused = true, pause_reason = $4, updated_at = $3
                   WHERE id = $11 AND ($13::int IS NULL OR version = $13::int)
                 ), lane AS (
                   UPDATE lanes SET leased_by = NULL, lease_until = NULL, next_run_at = $3
                   WHERE destination_id = $11 AND lane_key = $12 AND leased_by = $9
                 ), attempt AS (${attemptInsert})
                 SELECT count(*)::int AS applied FROM e`,
          values: [...common, JSON.stringify(outcome), destinationId, laneKey, settlement.settingsVersion ?? null],
        };
        break;
      }
    }
    const { rows } = await queryRetrying<{ applied: number }>(this.pool, query);
    const applied = rows[0]!.applied > 0;
    if (applied && (settlement.state === 'delivered' || settlement.state === 'skipped' || settlement.state === 'failed') && this.backlogCache) {
      this.backlogCache.value = Math.max(0, this.backlogCache.value - 1);
    }
    return { applied };
  }

  async renewLeases(workerId: string, lanes: LaneRef[], leaseMs: number): Promise<LaneRef[]> {
    if (lanes.length === 0) return [];
    const until = this.clock.now() + leaseMs;
    const { rows } = await queryRetrying<{ destination_id: string; lane_key: string }>(this.pool, {
      name: 'sd-renew-leases',
      // Locked in the same order as appends lock lanes, so the two never deadlock.
      text: `WITH mine AS (
               SELECT l.destination_id, l.lane_key FROM lanes l
               JOIN unnest($1::text[], $2::text[]) AS r(d, k) ON l.destination_id = r.d AND l.lane_key = r.k
               WHERE l.leased_by = $3
               ORDER BY l.destination_id, l.lane_key
               FOR UPDATE OF l
             )
             UPDATE lanes SET lease_until = $4, next_run_at = $4
             FROM mine
             WHERE lanes.destination_id = mine.destination_id AND lanes.lane_key = mine.lane_key AND lanes.leased_by = $3
             RETURNING lanes.destination_id, lanes.lane_key`,
      values: [lanes.map((l) => pgText(l.destinationId)), lanes.map((l) => pgText(l.laneKey)), pgText(workerId), until],
    });
    const held = new Set(rows.map((r) => laneId(r.destination_id, r.lane_key)));
    return lanes.filter((lane) => held.has(laneId(pgText(lane.destinationId), pgText(lane.laneKey))));
  }

  async releaseLane(workerId: string, lane: LaneRef): Promise<void> {
    const destinationId = pgText(lane.destinationId);
    const laneKey = pgText(lane.laneKey);
    const pending = await inTransaction(this.pool, async (client) => {
      const held = await client.query({
        name: 'sd-lock-lane',
        text: 'SELECT 1 FROM lanes WHERE destination_id = $1 AND lane_key = $2 AND leased_by = $3 FOR UPDATE',
        values: [destinationId, laneKey, pgText(workerId)],
      });
      if (held.rowCount === 0) return null;
      // A new statement, hence a snapshot taken after the lock: it sees every append that
      // touched this lane. Recounting heals a drifted counter, so an empty lane cannot stay due.
      const { rows } = await client.query<{ pending: number }>({
        name: 'sd-release-lane',
        text: `UPDATE lanes SET leased_by = NULL, lease_until = NULL, next_run_at = $3,
                 pending = (SELECT count(*) FROM events e WHERE e.destination_id = $1 AND e.lane_key = $2 AND e.${UNSETTLED})
               WHERE destination_id = $1 AND lane_key = $2
               RETURNING pending`,
        values: [destinationId, laneKey, this.clock.now()],
      });
      return rows[0]?.pending ?? 0;
    });
    if (pending !== null && pending > 0) this.signal.announce();
  }

  // ---------------------------------------------------------------- console sessions

  async createSession(record: ConsoleSessionRecord, staleBefore: number, keep: number): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM console_sessions WHERE last_seen < $1', [staleBefore]);
      await client.query('INSERT INTO console_sessions (id_hash, csrf, created_at, last_seen, state) VALUES ($1, $2, $3, $4, $5)', [
        record.idHash,
        record.csrf,
        record.createdAt,
        record.lastSeen,
        record.state,
      ]);
      await client.query(
        `DELETE FROM console_sessions WHERE id_hash IN
           (SELECT id_hash FROM console_sessions ORDER BY last_seen DESC, created_at DESC OFFSET $1)`,
        [keep],
      );
    });
  }

  async getSession(idHash: string): Promise<ConsoleSessionRecord | null> {
    const { rows } = await queryRetrying<ConsoleSessionRecord>(this.pool, {
      name: 'sd-get-session',
      text: `SELECT id_hash AS "idHash", csrf, created_at AS "createdAt", last_seen AS "lastSeen", state
             FROM console_sessions WHERE id_hash = $1`,
      values: [idHash],
    });
    return rows[0] ?? null;
  }

  async touchSession(idHash: string, lastSeen: number): Promise<void> {
    await queryRetrying(this.pool, {
      name: 'sd-touch-session',
      text: 'UPDATE console_sessions SET last_seen = greatest(last_seen, $2) WHERE id_hash = $1',
      values: [idHash, lastSeen],
    });
  }

  async updateSessionState(idHash: string, expected: string, state: string, lastSeen: number): Promise<boolean> {
    const { rowCount } = await queryRetrying(this.pool, {
      name: 'sd-update-session-state',
      text: 'UPDATE console_sessions SET state = $3, last_seen = greatest(last_seen, $4) WHERE id_hash = $1 AND state = $2',
      values: [idHash, expected, state, lastSeen],
    });
    return (rowCount ?? 0) > 0;
  }

  async deleteSession(idHash: string): Promise<void> {
    await queryRetrying(this.pool, { name: 'sd-delete-session', text: 'DELETE FROM console_sessions WHERE id_hash = $1', values: [idHash] });
  }

  async wakeRetryingLanes(destinationId: string): Promise<number> {
    const { rows } = await queryRetrying<{ lanes: number }>(this.pool, {
      name: 'sd-wake-retrying-lanes',
      // Lanes locked in the order appends lock them (so the two never deadlock), waiting for an
      // append that holds one rather than skipping it: that lane is waiting out a retry too. Only
      // the heads of the lanes woken get their retry time changed.
      text: `WITH waiting AS (
               SELECT destination_id, lane_key FROM lanes
               WHERE destination_id = $1 AND leased_by IS NULL AND pending > 0 AND next_run_at > $2
               ORDER BY destination_id COLLATE "C", lane_key COLLATE "C"
               FOR UPDATE
             ), woken AS (
               UPDATE lanes SET next_run_at = $2
               FROM waiting
               WHERE lanes.destination_id = waiting.destination_id AND lanes.lane_key = waiting.lane_key
                 AND lanes.leased_by IS NULL AND lanes.next_run_at > $2
               RETURNING lanes.destination_id, lanes.lane_key
             ), heads AS (
               UPDATE events SET next_attempt_at = $2
               FROM woken
               WHERE events.destination_id = woken.destination_id AND events.lane_key = woken.lane_key
                 AND events.status = 'retrying' AND events.next_attempt_at > $2
               RETURNING events.id
             )
             SELECT (SELECT count(*) FROM woken)::int AS lanes, (SELECT count(*) FROM heads)::int AS heads`,
      values: [pgText(destinationId), this.clock.now()],
    });
    const woken = rows[0]?.lanes ?? 0;
    if (woken > 0) this.signal.announce();
    return woken;
  }

  onWorkAvailable(listener: () => void): () => void {
    return this.signal.subscribe(listener);
  }

  // ---------------------------------------------------------------- delivery log

  async backlogByDestination(): Promise<DestinationBacklog[]> {
    const now = this.clock.now();
    const { rows } = await this.pool.query<{
      destination_id: string;
      unsettled: number;
      retrying: number;
      failed: number;
      oldest: number | null;
    }>(
      `SELECT ids.id AS destination_id,
         (SELECT coalesce(sum(pending), 0)::bigint FROM lanes WHERE destination_id = ids.id) AS unsettled,
         (SELECT count(*) FROM events WHERE status = 'retrying' AND destination_id = ids.id) AS retrying,
         (SELECT count(*) FROM events WHERE status = 'failed' AND destination_id = ids.id) AS failed,
         least((SELECT received_at FROM events WHERE status = 'pending' AND destination_id = ids.id ORDER BY id LIMIT 1),
               (SELECT received_at FROM events WHERE status = 'retrying' AND destination_id = ids.id ORDER BY id LIMIT 1)) AS oldest
       FROM (SELECT id FROM destinations UNION SELECT DISTINCT destination_id FROM lanes) AS ids
       ORDER BY ids.id`,
    );
    return rows.map((r) => ({
      destinationId: r.destination_id,
      unsettled: r.unsettled,
      retrying: r.retrying,
      failed: r.failed,
      oldestUnsettledAgeMs: r.oldest === null ? null : Math.max(0, now - r.oldest),
    }));
  }

  async search(query: EventQuery): Promise<EventPage> {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE), MAX_PAGE);
    const rows = await this.selectEvents(this.pool, query, query.beforeId, limit + 1);
    const events = rows.slice(0, limit).map(toStoredEvent);
    const nextBeforeId = rows.length > limit ? events[events.length - 1]!.id : null;
    return { events, nextBeforeId };
  }

  async getEvent(id: number): Promise<EventDetail | null> {
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM events WHERE id = $1', [id]);
    if (!rows[0]) return null;
    const attempts = await this.pool.query<AttemptRow>('SELECT * FROM attempts WHERE event_id = $1 ORDER BY id', [id]);
    return { event: toStoredEvent(rows[0]), attempts: attempts.rows.map(toAttemptRecord) };
  }

  async retryDeadLetters(selector: DeadLetterSelector): Promise<number> {
    let total = 0;
    for (;;) {
      const retried = await inTransaction(this.pool, async (client) => {
        const ids = await this.deadLetterBatch(client, selector);
        if (ids.length === 0) return 0;
        const now = this.clock.now();
        const { rows } = await client.query<{ destination_id: string; lane_key: string; n: number }>(
          `WITH r AS (
             UPDATE events SET status = 'pending', next_attempt_at = $2, first_attempt_at = NULL, settled_at = NULL, updated_at = $2
             WHERE id = ANY($1::bigint[]) AND status = 'failed'
             RETURNING destination_id, lane_key
           )
           SELECT destination_id, lane_key, count(*)::int AS n FROM r GROUP BY 1, 2`,
          [ids, now],
        );
        if (rows.length === 0) return 0;
        await client.query(
          // A retried dead letter is older than anything queued behind it: due now, lease permitting.
          `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at)
           SELECT d, l, c, $4 FROM unnest($1::text[], $2::text[], $3::int[]) AS x(d, l, c)
           ORDER BY d COLLATE "C", l COLLATE "C"
           ON CONFLICT (destination_id, lane_key) DO UPDATE SET
             pending = lanes.pending + excluded.pending,
             next_run_at = CASE WHEN lanes.leased_by IS NULL OR lanes.lease_until <= $4 THEN $4 ELSE lanes.next_run_at END`,
          [rows.map((r) => r.destination_id), rows.map((r) => r.lane_key), rows.map((r) => r.n), now],
        );
        return rows.reduce((sum, r) => sum + r.n, 0);
      });
      if (retried > 0) {
        this.backlogCache = null;
        this.signal.announce();
      }
      total += retried;
      if (retried === 0 || 'ids' in selector) return total;
    }
  }

  async dropDeadLetters(selector: DeadLetterSelector): Promise<number> {
    let total = 0;
    for (;;) {
      const dropped = await inTransaction(this.pool, async (client) => {
        const ids = await this.deadLetterBatch(client, selector);
        if (ids.length === 0) return 0;
        const { rows } = await client.query<{ n: number }>(
          `WITH gone AS (DELETE FROM events WHERE id = ANY($1::bigint[]) AND status = 'failed' RETURNING id),
                gone_attempts AS (DELETE FROM attempts WHERE event_id IN (SELECT id FROM gone))
           SELECT count(*)::int AS n FROM gone`,
          [ids],
        );
        return rows[0]!.n;
      });
      total += dropped;
      if (dropped === 0 || 'ids' in selector) return total;
    }
  }

  async prune(options: PruneOptions): Promise<number> {
    const cutoff = options.olderThan.getTime();
    const statuses = [...new Set<EventStatus>(options.statuses ?? ['delivered', 'skipped', 'rejected'])];
    const batchSize = options.batchSize ?? WORK_BATCH;
    let cursor = 0;
    let total = 0;
    // Walk the primary key in id (≈ arrival) order; each batch is one short statement.
    for (;;) {
      const { rows } = await queryRetrying<{ last_id: number | null; deleted: number; past: boolean }>(this.pool, {
        text: `WITH scan AS (
                 SELECT id, received_at FROM events WHERE id > $1 ORDER BY id LIMIT $2
               ), gone AS (
                 DELETE FROM events e WHERE e.id IN (SELECT id FROM scan WHERE received_at < $3) AND e.status = ANY($4::text[])
                 RETURNING e.id
               ), gone_attempts AS (
                 DELETE FROM attempts WHERE event_id IN (SELECT id FROM gone)
               )
               SELECT (SELECT max(id) FROM scan) AS last_id,
                      (SELECT count(*)::int FROM gone) AS deleted,
                      coalesce((SELECT bool_or(received_at >= $5) FROM scan), false) AS past`,
        values: [cursor, batchSize, cutoff, statuses, cutoff + PRUNE_SCAN_SLACK_MS],
      });
      const row = rows[0]!;
      if (row.last_id === null) break;
      cursor = row.last_id;
      total += row.deleted;
      if (row.past) break;
    }
    // Lanes with nothing queued: the next event of that user recreates its row.
    for (;;) {
      const { rowCount } = await queryRetrying(this.pool, {
        text: `DELETE FROM lanes l USING (
                 SELECT destination_id, lane_key FROM lanes
                 WHERE pending = 0 AND (leased_by IS NULL OR lease_until <= $1)
                 LIMIT $2 FOR UPDATE SKIP LOCKED
               ) idle
               WHERE l.destination_id = idle.destination_id AND l.lane_key = idle.lane_key`,
        values: [this.clock.now(), batchSize],
      });
      if ((rowCount ?? 0) < batchSize) break;
    }
    return total;
  }

  // ---------------------------------------------------------------- destinations

  async createDestination(input: NewDestination): Promise<Destination> {
    const now = this.clock.now();
    const { rows } = await this.pool.query<DestinationRow>(
      'INSERT INTO destinations (id, name, settings, created_at, updated_at) VALUES ($1, $2, $3::json, $4, $4) RETURNING *',
      [pgText(input.id ?? randomUUID()), pgText(input.name), JSON.stringify(input.settings), now],
    );
    return toDestination(rows[0]!);
  }

  async getDestination(id: string): Promise<Destination | null> {
    const { rows } = await this.pool.query<DestinationRow>('SELECT * FROM destinations WHERE id = $1', [pgText(id)]);
    return rows[0] ? toDestination(rows[0]) : null;
  }

  async listDestinations(): Promise<Destination[]> {
    const { rows } = await this.pool.query<DestinationRow>('SELECT * FROM destinations ORDER BY created_at, id');
    return rows.map(toDestination);
  }

  async updateDestination(id: string, patch: DestinationPatch): Promise<Destination | null> {
    const now = this.clock.now();
    const key = pgText(id);
    const { row, resumed } = await inTransaction(this.pool, async (client) => {
      if (patch.name !== undefined) {
        await client.query('UPDATE destinations SET name = $1, updated_at = $2 WHERE id = $3', [pgText(patch.name), now, key]);
      }
      let changed = false;
      if (patch.settings !== undefined) {
        // New settings may fix what paused it (SPEC.md §9): resume, and let the workers look.
        const result = await client.query(
          `UPDATE destinations SET settings = $1::json, version = version + 1, paused = false, pause_reason = NULL, updated_at = $2
           WHERE id = $3`,
          [JSON.stringify(patch.settings), now, key],
        );
        changed = (result.rowCount ?? 0) > 0;
      }
      const found = await client.query<DestinationRow>('SELECT * FROM destinations WHERE id = $1', [key]);
      return { row: found.rows[0], resumed: changed };
    });
    if (resumed) this.signal.announce();
    return row ? toDestination(row) : null;
  }

  async deleteDestination(id: string): Promise<boolean> {
    const key = pgText(id);
    const existed = await inTransaction(this.pool, async (client) => {
      const result = await client.query('DELETE FROM destinations WHERE id = $1', [key]);
      await client.query('DELETE FROM write_keys WHERE destination_id = $1', [key]);
      await client.query('DELETE FROM lanes WHERE destination_id = $1', [key]);
      return (result.rowCount ?? 0) > 0;
    });
    // Its events go in short batches; without the lanes and destination nothing delivers them.
    let cursor = 0;
    for (;;) {
      const { rows } = await queryRetrying<{ last_id: number | null }>(this.pool, {
        text: `WITH scan AS (SELECT id FROM events WHERE id > $1 AND destination_id = $2 ORDER BY id LIMIT $3),
                    gone AS (DELETE FROM events WHERE id IN (SELECT id FROM scan) RETURNING id),
                    gone_attempts AS (DELETE FROM attempts WHERE event_id IN (SELECT id FROM gone))
               SELECT max(id) AS last_id FROM scan`,
        values: [cursor, key, WORK_BATCH],
      });
      const last = rows[0]?.last_id ?? null;
      if (last === null) break;
      cursor = last;
    }
    this.backlogCache = null;
    return existed;
  }

  async pauseDestination(id: string, reason: string): Promise<void> {
    await this.pool.query('UPDATE destinations SET paused = true, pause_reason = $1, updated_at = $2 WHERE id = $3', [
      pgText(reason),
      this.clock.now(),
      pgText(id),
    ]);
  }

  async resumeDestination(id: string): Promise<void> {
    const { rowCount } = await this.pool.query(
      'UPDATE destinations SET paused = false, pause_reason = NULL, updated_at = $1 WHERE id = $2 AND paused',
      [this.clock.now(), pgText(id)],
    );
    if ((rowCount ?? 0) > 0) this.signal.announce();
  }

  // ---------------------------------------------------------------- write keys

  async createWriteKey(destinationId: string, label: string): Promise<CreatedWriteKey> {
    const key = generateWriteKey();
    const record = await inTransaction(this.pool, async (client) => {
      await requireDestination(client, destinationId);
      const { rows } = await client.query<WriteKeyRow>(
        `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${WRITE_KEY_COLUMNS}`,
        [randomUUID(), hashWriteKey(key), pgText(destinationId), pgText(label), this.clock.now()],
      );
      return toWriteKeyRecord(rows[0]!);
    });
    return { key, record };
  }

  async importWriteKey(destinationId: string, key: string, label: string): Promise<WriteKeyRecord> {
    const hash = hashWriteKey(key);
    return inTransaction(this.pool, async (client) => {
      await requireDestination(client, destinationId);
      // An existing key is left as it is: a key revoked in the console stays revoked.
      await client.query(
        `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key_hash) DO NOTHING`,
        [randomUUID(), hash, pgText(destinationId), pgText(label), this.clock.now()],
      );
      const { rows } = await client.query<WriteKeyRow>(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys WHERE key_hash = $1`, [hash]);
      return toWriteKeyRecord(rows[0]!);
    });
  }

  async revokeWriteKey(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE write_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [
      this.clock.now(),
      pgText(id),
    ]);
    return (rowCount ?? 0) > 0;
  }

  async listWriteKeys(destinationId?: string): Promise<WriteKeyRecord[]> {
    const { rows } =
      destinationId === undefined
        ? await this.pool.query<WriteKeyRow>(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys ORDER BY created_at, id`)
        : await this.pool.query<WriteKeyRow>(
            `SELECT ${WRITE_KEY_COLUMNS} FROM write_keys WHERE destination_id = $1 ORDER BY created_at, id`,
            [pgText(destinationId)],
          );
    return rows.map(toWriteKeyRecord);
  }

  async destinationFor(writeKey: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ destination_id: string }>({
      name: 'sd-destination-for-key',
      text: `SELECT k.destination_id FROM write_keys k JOIN destinations d ON d.id = k.destination_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      values: [hashWriteKey(writeKey)],
    });
    return rows[0]?.destination_id ?? null;
  }

  // ---------------------------------------------------------------- internals

  private makeSignal(schema: string): PgWorkSignal {
    return new PgWorkSignal(this.pool, clientConfig(this.connection), channelFor(schema), this.onError);
  }

  private async deadLetterBatch(client: PoolClient, selector: DeadLetterSelector): Promise<number[]> {
    if ('ids' in selector) return selector.ids;
    const rows = await this.selectEvents(client, { ...selector.filter, status: 'failed' }, undefined, WORK_BATCH, true);
    return rows.map((r) => r.id);
  }

  /** Newest first (or oldest first when `ascending`), keyset-paged below beforeId. */
  private async selectEvents(
    db: Pool | PoolClient,
    filter: EventFilter,
    beforeId: number | undefined,
    limit: number,
    ascending = false,
  ): Promise<EventRow[]> {
    const clauses: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    if (filter.destinationId !== undefined) clauses.push(`destination_id = ${param(pgText(filter.destinationId))}`);
    if (filter.laneKey !== undefined) clauses.push(`lane_key = ${param(pgText(filter.laneKey))}`);
    if (filter.eventName !== undefined) clauses.push(`event_name = ${param(pgText(filter.eventName))}`);
    if (filter.type !== undefined) clauses.push(`type = ${param(pgText(filter.type))}`);
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      if (statuses.length === 0) return [];
      clauses.push(`status = ANY(${param(statuses)}::text[])`);
    }
    if (filter.receivedFrom !== undefined) clauses.push(`received_at >= ${param(filter.receivedFrom.getTime())}`);
    if (filter.receivedTo !== undefined) clauses.push(`received_at < ${param(filter.receivedTo.getTime())}`);
    if (beforeId !== undefined) clauses.push(`id < ${param(beforeId)}`);
    const order = ascending ? 'ASC' : 'DESC';
    const limitParam = param(limit);
    if (filter.messageId === undefined) {
      const { rows } = await db.query<EventRow>(`SELECT * FROM events ${where(clauses)} ORDER BY id ${order} LIMIT ${limitParam}`, values);
      return rows;
    }
    // The messageId index covers accepted events only (it is the dedupe index); rejected events
    // with that messageId come from the status index. Two indexed lookups, merged.
    const messageParam = param(pgText(filter.messageId));
    const { rows } = await db.query<EventRow>(
      `(SELECT * FROM events ${where([...clauses, `message_id = ${messageParam}`, "status <> 'rejected'"])} ORDER BY id ${order} LIMIT ${limitParam})
       UNION ALL
       (SELECT * FROM events ${where([...clauses, `message_id = ${messageParam}`, "status = 'rejected'"])} ORDER BY id ${order} LIMIT ${limitParam})`,
      values,
    );
    return rows.sort((a, b) => (ascending ? a.id - b.id : b.id - a.id)).slice(0, limit);
  }
}

/** NOTIFY channels are identifiers of at most 63 bytes: long schema names are hashed in. */
export function channelFor(schema: string): string {
  const channel = `sailthru_work_${schema}`;
  return channel.length <= 63 ? channel : `sailthru_work_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

async function requireDestination(client: PoolClient, id: string): Promise<void> {
  const { rowCount } = await client.query('SELECT 1 FROM destinations WHERE id = $1', [pgText(id)]);
  if (rowCount === 0) throw new Error(`no destination with id ${JSON.stringify(id)}`);
}

function where(clauses: string[]): string {
  return clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
}

function laneId(destinationId: string, laneKey: string): string {
  return JSON.stringify([destinationId, laneKey]);
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
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: date(row.next_attempt_at),
    firstAttemptAt: date(row.first_attempt_at),
    lastError: row.last_error,
    receivedAt: new Date(row.received_at),
    updatedAt: new Date(row.updated_at),
    settledAt: date(row.settled_at),
    outcome: row.outcome,
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
    calls: row.calls,
    warnings: row.warnings,
    workerId: row.worker_id,
  };
}

function toDestination(row: DestinationRow): Destination {
  return {
    id: row.id,
    name: row.name,
    settings: row.settings,
    paused: row.paused,
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
