import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { SailthruRateGate, type LimiterFactory } from '../../src/delivery/rate-limiter.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { RATE_LIMIT_TABLE, openSharedLimiter, postgresLimiterFactory, redisLimiterFactory } from '../../src/delivery/shared-rate-limit.ts';
import { TEST_DATABASE_URL, TestSchema } from './postgres-helpers.ts';
import { tempDir } from './helpers.ts';

const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Grant {
  gate: string;
  /** The limiter's window the point came from, as its end in whole seconds. */
  window: number;
  consumed: number;
}

/**
 * Records every point a limiter grants, with the window the limiter itself took it from
 * (msBeforeNext counts to that window's end), so grants are counted per the limiter's windows,
 * not by when our callbacks happened to run.
 */
function recording(factory: LimiterFactory, gate: string, grants: Grant[]): LimiterFactory {
  return (options) => {
    const limiter = factory(options);
    const consume = limiter.consume.bind(limiter);
    limiter.consume = async (key, points) => {
      const res = await consume(key, points);
      grants.push({ gate, window: Math.floor((Date.now() + res.msBeforeNext) / 1000), consumed: res.consumedPoints });
      return res;
    };
    return limiter;
  };
}

function byWindow(grants: Grant[]): Map<number, Grant[]> {
  const windows = new Map<number, Grant[]>();
  for (const g of grants) windows.set(g.window, [...(windows.get(g.window) ?? []), g]);
  return windows;
}

/** Two gates (two "processes") spending one account's POST /event budget of `perSecond`. */
async function spendTogether(factories: [LimiterFactory, LimiterFactory], perSecond: number, requests: number): Promise<Grant[]> {
  const grants: Grant[] = [];
  const account = `acct-${randomBytes(4).toString('hex')}`;
  const gates = factories.map(
    (factory, i) => new SailthruRateGate({ account, limits: { 'POST /event': perSecond }, factory: recording(factory, `g${i}`, grants) }),
  );
  await Promise.all(Array.from({ length: requests }, (_, i) => gates[i % 2]!.acquire('POST', '/event')));
  return grants;
}

function expectSharedBudget(grants: Grant[], perSecond: number, requests: number): void {
  expect(grants).toHaveLength(requests);
  const windows = byWindow(grants);
  for (const inWindow of windows.values()) {
    // Never more than the budget in one window, both gates together...
    expect(inWindow.length).toBeLessThanOrEqual(perSecond);
    // ...because they count on one counter: its values are handed out once each.
    expect(inWindow.map((g) => g.consumed).sort((x, y) => x - y)).toEqual(Array.from({ length: inWindow.length }, (_, i) => i + 1));
  }
  expect(windows.size).toBeGreaterThanOrEqual(Math.ceil(requests / perSecond));
  expect(new Set(grants.map((g) => g.gate))).toEqual(new Set(['g0', 'g1']));
}

describe('shared rate limit on PostgreSQL', () => {
  const schema = new TestSchema();
  const pools = [0, 1].map(() => new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 }));
  let factories: [LimiterFactory, LimiterFactory];

  beforeAll(async () => {
    // Both "processes" create the table at the same moment: the advisory lock serialises them.
    const made = await Promise.all(pools.map((pool) => postgresLimiterFactory(pool, { schema: schema.name })));
    factories = [made[0]!, made[1]!];
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await schema.dispose();
  });

  it('keeps two gates in two pools within one budget per window', async () => {
    const grants = await spendTogether(factories, 4, 20);
    expectSharedBudget(grants, 4, 20);
    const { rows } = await schema.admin.query<{ persistence: string }>(
      `SELECT relpersistence AS persistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2`,
      [schema.name, RATE_LIMIT_TABLE],
    );
    expect(rows).toEqual([{ persistence: 'u' }]);
  });

  it('takes points in blocks: a twentieth of the limit per round trip, still within one budget per window', async () => {
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
    let roundTrips = 0;
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    // Counts what the limiter sends the database; the queries themselves are untouched.
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
      const sql = typeof args[0] === 'object' && args[0] !== null ? (args[0] as { text?: unknown }).text : args[0];
      if (String(sql).includes(RATE_LIMIT_TABLE)) roundTrips++;
      return query(...args);
    };
    try {
      const counted = await postgresLimiterFactory(pool, { schema: schema.name });
      const grants = await spendTogether([counted, factories[1]], 100, 300);
      expectSharedBudget(grants, 100, 300);
      const ofCounted = grants.filter((g) => g.gate === 'g0').length;
      expect(ofCounted).toBe(150);
      // Blocks of 5: about 30 round trips for 150 points (a few more where a window ran short).
      expect(roundTrips).toBeGreaterThanOrEqual(Math.ceil(ofCounted / 5));
      expect(roundTrips).toBeLessThanOrEqual(Math.ceil(ofCounted / 5) + 8);
    } finally {
      await pool.end();
    }
  });

  it('still applies Sailthru’s header corrections: a lower limit and a hold until the reset', async () => {
    const grants: Grant[] = [];
    const gate = new SailthruRateGate({ account: `acct-${randomBytes(4).toString('hex')}`, factory: recording(factories[0], 'g0', grants) });
    gate.observe('POST', '/event', { limit: 120, remaining: 50, reset: Math.ceil(Date.now() / 1000) + 60 });
    expect(gate.pointsPerSecond('POST', '/event')).toBe(2);
    await Promise.all(Array.from({ length: 6 }, () => gate.acquire('POST', '/event')));
    for (const inWindow of byWindow(grants).values()) expect(inWindow.length).toBeLessThanOrEqual(2);

    const reset = Math.ceil(Date.now() / 1000) + 1;
    gate.observe('POST', '/purchase', { limit: 2400, remaining: 0, reset });
    await gate.acquire('POST', '/purchase');
    const purchase = grants[grants.length - 1]!;
    // The point came from a window that starts at or after the reset Sailthru announced.
    expect(purchase.window - 1).toBeGreaterThanOrEqual(reset);
  });

  it('lets requests through when the counter store is unreachable (fail open), and says so', async () => {
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    const factory = await postgresLimiterFactory(pool, { schema: schema.name });
    await pool.end();
    const errors: unknown[] = [];
    const gate = new SailthruRateGate({ account: 'acct-down', factory, onStoreError: (e) => errors.push(e) });
    await gate.acquire('POST', '/event');
    expect(errors).toHaveLength(1);
  });
});

describe('shared rate limit on Redis', () => {
  const clients = [0, 1].map(() => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 }));
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('hands out no point in the last 100 ms of a window (it could reach Sailthru in the next one)', async () => {
    const limiter = redisLimiterFactory(clients[0]!)({ keyPrefix: `edge-${randomBytes(4).toString('hex')}`, points: 10, duration: 1 });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Math.ceil(Date.now() / 1000) * 1000 + 930);
      const refused = await limiter.consume('k', 1).then(
        () => null,
        (rejection: unknown) => rejection,
      );
      expect(refused).toBeInstanceOf(RateLimiterRes);
      expect((refused as RateLimiterRes).msBeforeNext).toBe(70);
      vi.setSystemTime(Date.now() + 70);
      await expect(limiter.consume('k', 1)).resolves.toBeInstanceOf(RateLimiterRes);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps two gates on two connections within one budget per window', async () => {
    const grants = await spendTogether([redisLimiterFactory(clients[0]!), redisLimiterFactory(clients[1]!)], 4, 20);
    expectSharedBudget(grants, 4, 20);
  });
});

describe('choosing the counter store', () => {
  it('is Redis when REDIS_URL is set, else PostgreSQL for a PostgreSQL store, else memory', async () => {
    const schema = new TestSchema();
    const tmp = tempDir('shared-limit-');
    const postgres = await schema.open();
    const sqlite = await openSqliteStore({ path: join(tmp.dir, 'e.db') });
    try {
      const viaRedis = await openSharedLimiter({ store: postgres, redisUrl: TEST_REDIS_URL });
      expect(viaRedis.kind).toBe('redis');
      await viaRedis.close();
      const viaPostgres = await openSharedLimiter({ store: postgres });
      expect(viaPostgres.kind).toBe('postgres');
      // The counter table sits with the store's tables.
      const { rows } = await schema.admin.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema.name, RATE_LIMIT_TABLE]);
      expect(rows).toHaveLength(1);
      expect((await openSharedLimiter({ store: sqlite })).kind).toBe('memory');
    } finally {
      await sqlite.close();
      await schema.dispose();
      tmp.remove();
    }
  });
});
