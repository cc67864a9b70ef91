import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { assertSchemaName } from './postgres/connection.ts';
import { PostgresEventStore } from './postgres-store.ts';
import { memoryLimiterFactory, type LimiterFactory, type PointLimiter } from './rate-limiter.ts';
import type { EventStore } from './store.ts';

/**
 * One Sailthru budget shared by every process that spends it: the counters behind
 * SailthruRateGate live in PostgreSQL (default in distributed mode) or Redis (when REDIS_URL is
 * set) instead of each process's memory. The gate itself, its FIFO and its X-Rate-Limit-*
 * corrections are unchanged; only the counter moves.
 *
 * Windows are aligned to the clock (second k is [k·1000, k·1000 + 1000) ms), the way Sailthru
 * and the emulator count, rather than starting at each budget's first request: a budget spent
 * within one of our seconds then lands in one of theirs, not across two. The processes' clocks
 * should agree (NTP); the window key carries its start, so a skewed process only shifts which
 * second it counts in.
 */

export const RATE_LIMIT_TABLE = 'sailthru_rate_limits';

/** Advisory-lock class for creating the counter table ("SDRL"). */
const TABLE_LOCK_CLASS = 0x5344524c;

/** The window start, ms, that `now` falls in, for a limiter of `duration` seconds. */
export function windowStartOf(now: number, durationSeconds: number): number {
  const ms = Math.max(1, durationSeconds) * 1000;
  return now - (now % ms);
}

/**
 * No point is handed out this close to a window's end: a request granted then could reach
 * Sailthru in the next window, on top of that window's full budget. Workers that have just
 * started open their connections with their first requests, which then take longer than usual to
 * arrive: with 25 and 50 ms the emulator's first whole window after a start still saw 101 and 107
 * (bench/postgres.ts), with 100 ms none over in three runs. Points are spent at a window's start
 * when there is a backlog, so this costs no throughput; a lone request waits at most this long.
 */
export const WINDOW_EDGE_GUARD_MS = 100;

/**
 * Consumes from the counter of the current clock-aligned window: the key carries the window's
 * start, and msBeforeNext counts to the window's end.
 */
async function consumeAligned(
  durationSeconds: number,
  key: string | number,
  consume: (windowKey: string) => Promise<RateLimiterRes>,
): Promise<RateLimiterRes> {
  const now = Date.now();
  const start = windowStartOf(now, durationSeconds);
  const end = start + Math.max(1, durationSeconds) * 1000;
  if (end - now < WINDOW_EDGE_GUARD_MS) throw new RateLimiterRes(0, Math.max(1, end - now), 0, false);
  try {
    const res = await consume(`${key}@${start}`);
    return new RateLimiterRes(res.remainingPoints, Math.max(0, end - Date.now()), res.consumedPoints, res.isFirstInDuration);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    throw new RateLimiterRes(rejection.remainingPoints, Math.max(1, end - Date.now()), rejection.consumedPoints, rejection.isFirstInDuration);
  }
}

// The library types options as `{ [key: string]: any }`; ours pass them through untouched.
type ConsumeOptions = Parameters<RateLimiterAbstract['consume']>[2];

class AlignedPostgresLimiter extends RateLimiterPostgres {
  override consume(key: string | number, points?: number, options?: ConsumeOptions): Promise<RateLimiterRes> {
    return consumeAligned(this.duration, key, (windowKey) => super.consume(windowKey, points, options));
  }
}

class AlignedRedisLimiter extends RateLimiterRedis {
  override consume(key: string | number, points?: number, options?: ConsumeOptions): Promise<RateLimiterRes> {
    return consumeAligned(this.duration, key, (windowKey) => super.consume(windowKey, points, options));
  }
}

/** Points taken from the shared counter per round trip: a twentieth of the limit, 1 to 1000. */
export function blockSizeFor(points: number): number {
  return Math.max(1, Math.min(1000, Math.ceil(points / 20)));
}

/**
 * Takes the shared counter's points in blocks and hands them out here, one per request, so a
 * process makes one round trip to PostgreSQL or Redis per block rather than per Sailthru call
 * (every worker's requests otherwise queue on the one row of that endpoint's counter). Held
 * points belong to their window: unspent at its end, they lapse, never carried into the next.
 * When fewer than a block are left, the counter goes past the limit by the shortfall (the
 * stores add before they compare) and this process spends what was really left; every other
 * process then sees the window full. Together, never more than the limit per window.
 */
export class BlockLimiter implements PointLimiter {
  private readonly held = new Map<string, { window: number; next: number; last: number }>();

  constructor(
    private readonly inner: RateLimiterAbstract,
    private readonly durationSeconds: number,
  ) {}

  get points(): number {
    return this.inner.points;
  }

  set points(value: number) {
    this.inner.points = value;
  }

  async consume(key: string, points: number): Promise<RateLimiterRes> {
    const now = Date.now();
    const window = windowStartOf(now, this.durationSeconds);
    const end = window + Math.max(1, this.durationSeconds) * 1000;
    const held = this.held.get(key);
    if (held !== undefined && held.window === window && held.last - held.next + 1 >= points && end - now >= WINDOW_EDGE_GUARD_MS) {
      held.next += points;
      // consumedPoints: the counter values this grant stands for, as a direct consume reports them.
      return new RateLimiterRes(Math.max(0, this.inner.points - (held.next - 1)), end - now, held.next - 1, false);
    }
    const block = Math.max(points, blockSizeFor(this.inner.points));
    // The counter values this process now holds: [first, last].
    let first: number;
    let last: number;
    try {
      last = (await this.inner.consume(key, block)).consumedPoints;
      first = last - block + 1;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes) || rejection.consumedPoints === 0) throw rejection;
      // Over the limit by our block: what was left before it is ours, if it is enough.
      first = rejection.consumedPoints - block + 1;
      last = this.inner.points;
      if (last - first + 1 < points) throw rejection;
    }
    this.held.set(key, { window, next: first + points, last });
    if (this.held.size > 1000) this.dropOld(window);
    return new RateLimiterRes(Math.max(0, this.inner.points - last), end - now, first + points - 1, false);
  }

  private dropOld(window: number): void {
    for (const [key, held] of this.held) if (held.window !== window) this.held.delete(key);
  }
}

export interface PostgresLimiterOptions {
  /** Schema of the counter table; default: the pool's search_path. */
  schema?: string;
}

/**
 * Counters in an UNLOGGED table (no WAL: a crash only forgets the current second) created here
 * once, under an advisory lock so processes starting together do not race on it.
 */
export async function postgresLimiterFactory(pool: Pool, options: PostgresLimiterOptions = {}): Promise<LimiterFactory> {
  const schema = options.schema;
  if (schema !== undefined) assertSchemaName(schema);
  const table = schema === undefined ? RATE_LIMIT_TABLE : `${schema}.${RATE_LIMIT_TABLE}`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [TABLE_LOCK_CLASS, schema ?? '']);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE UNLOGGED TABLE IF NOT EXISTS ${table} (key VARCHAR(255) PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire BIGINT)`,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  return ({ keyPrefix, points, duration }) =>
    new BlockLimiter(
      new AlignedPostgresLimiter({
        storeClient: pool,
        storeType: 'pool',
        tableName: RATE_LIMIT_TABLE,
        ...(schema !== undefined ? { schemaName: schema } : {}),
        tableCreated: true,
        keyPrefix,
        points,
        duration,
      }),
      duration,
    );
}

/** Counters in Redis (keys expire by themselves). */
export function redisLimiterFactory(client: Redis): LimiterFactory {
  return ({ keyPrefix, points, duration }) => new BlockLimiter(new AlignedRedisLimiter({ storeClient: client, keyPrefix, points, duration }), duration);
}

export interface SharedLimiter {
  factory: LimiterFactory;
  kind: 'redis' | 'postgres' | 'memory';
  /** Closes what was opened here (the Redis connection); the store's pool stays the store's. */
  close(): Promise<void>;
}

export interface SharedLimiterOptions {
  store: EventStore;
  /** REDIS_URL: when set, the counters live in Redis whatever the store. */
  redisUrl?: string;
  onError?: (error: unknown) => void;
}

/**
 * The counter store for this process's rate gates: Redis when REDIS_URL is set, else the
 * PostgreSQL store's database, else (SQLite, one process) memory.
 */
export async function openSharedLimiter(options: SharedLimiterOptions): Promise<SharedLimiter> {
  if (options.redisUrl) {
    // Commands fail after a short reconnect rather than queueing forever; the gate then sends
    // without waiting (fail open) and Sailthru's 429s still slow it.
    const client = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, connectionName: 'sailthru-destination' });
    client.on('error', (error) => options.onError?.(error));
    return {
      factory: redisLimiterFactory(client),
      kind: 'redis',
      close: async () => {
        await client.quit().catch(() => client.disconnect());
      },
    };
  }
  if (options.store instanceof PostgresEventStore) {
    const factory = await postgresLimiterFactory(options.store.pool, options.store.schema !== undefined ? { schema: options.store.schema } : {});
    return { factory, kind: 'postgres', close: async () => {} };
  }
  return { factory: memoryLimiterFactory, kind: 'memory', close: async () => {} };
}
