import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PARKED_AT } from '../../src/delivery/postgres/lane-parking.ts';
import { POSTGRES_MIGRATIONS } from '../../src/delivery/postgres/schema.ts';
import type { PostgresEventStore } from '../../src/delivery/postgres-store.ts';
import type { LaneLease } from '../../src/delivery/store.ts';
import { SETTINGS, batchOf, trackEvent, until } from './helpers.ts';
import { TEST_DATABASE_URL, TestSchema } from './postgres-helpers.ts';

/**
 * Issue 22: lanes with nothing queued are parked at the far end of the claim index instead of
 * being left out of a partial index on `pending > 0`, so a change of a lane's count alone is a
 * HOT update (lane-parking.ts).
 */

const DEST = 'dest-a';
const attempt = () => ({ startedAt: new Date(), durationMs: 1, calls: [], warnings: [] });

describe('PostgreSQL lanes: empty lanes parked, count changes HOT', () => {
  let schema: TestSchema;
  beforeEach(() => {
    schema = new TestSchema();
  });
  afterEach(async () => {
    await schema.dispose();
  });

  async function laneRows(): Promise<Array<{ lane_key: string; pending: number; next_run_at: string; leased_by: string | null }>> {
    const { rows } = await schema.admin.query(`SELECT lane_key, pending, next_run_at::text, leased_by FROM ${schema.name}.lanes ORDER BY lane_key`);
    return rows;
  }

  /** Updates and HOT updates of `lanes` so far, once the store's backends have reported them. */
  async function laneUpdates(expectedUpdates: number): Promise<{ updates: number; hot: number }> {
    let found = { updates: -1, hot: -1 };
    // Backends report their counts when they exit (the store was closed) or idle: wait for them.
    await until(async () => {
      const { rows } = await schema.admin.query<{ updates: string; hot: string }>(
        `SELECT n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'lanes'`,
        [schema.name],
      );
      found = { updates: Number(rows[0]?.updates ?? -1), hot: Number(rows[0]?.hot ?? -1) };
      return found.updates >= expectedUpdates;
    }, 50);
    return found;
  }

  it('a settle that keeps the lease and an append to a lane with events are HOT updates of lanes', async () => {
    const store = await schema.open();
    await store.createDestination({ id: DEST, name: 'A', settings: SETTINGS });
    await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u1'), trackEvent('u1')]));
    const [lease] = (await store.claimLanes('w', 10, 30_000, 4)) as [LaneLease];
    expect(lease.events).toHaveLength(3);
    // Kept: only the count changes.
    const kept = await store.settleLane({ lane: lease, workerId: 'w', heads: [{ event: lease.events[0]!, settlement: { state: 'delivered' }, attempt: attempt() }], then: 'continue', window: 4 });
    expect(kept.released).toBe(false);
    // Appended to a lane that has events (and a lease): only the count changes.
    await store.append(batchOf(DEST, [trackEvent('u1')]));
    await store.close();
    // Three updates: the claim (lease and due time change), the settle and the append (HOT).
    expect(await laneUpdates(3)).toEqual({ updates: 3, hot: 2 });
  });

  it('parks a lane given back with nothing left, keeps it out of claims, and makes it due on the next append', async () => {
    const store: PostgresEventStore = await schema.open();
    await store.createDestination({ id: DEST, name: 'A', settings: SETTINGS });
    await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u2')]));
    const leases = await store.claimLanes('w', 10, 30_000, 4);
    expect(leases).toHaveLength(2);
    const [u1, u2] = leases.sort((a, b) => a.laneKey.localeCompare(b.laneKey)) as [LaneLease, LaneLease];
    // u1 through a settle that finds nothing more; u2 through an explicit release after its settle.
    const r1 = await store.settleLane({ lane: u1, workerId: 'w', heads: [{ event: u1.events[0]!, settlement: { state: 'delivered' }, attempt: attempt() }], then: 'continue', window: 4 });
    expect(r1.released).toBe(true);
    await store.settleLane({ lane: u2, workerId: 'w', heads: [{ event: u2.events[0]!, settlement: { state: 'delivered' }, attempt: attempt() }], then: 'keep' });
    await store.releaseLane('w', u2);
    expect(await laneRows()).toEqual([
      { lane_key: 'u1', pending: 0, next_run_at: String(PARKED_AT), leased_by: null },
      { lane_key: 'u2', pending: 0, next_run_at: String(PARKED_AT), leased_by: null },
    ]);
    expect(await store.claimLanes('w', 10, 30_000, 4)).toEqual([]);
    expect(await store.backlog()).toBe(0);

    await store.append(batchOf(DEST, [trackEvent('u2')]));
    const again = await store.claimLanes('w', 10, 30_000, 4);
    expect(again.map((l) => [l.laneKey, l.events.length])).toEqual([['u2', 1]]);
  });

  it('migrates an existing database: empty lanes parked, lanes with events still claimed', async () => {
    // The schema as the version before this change left it, with three lanes in it.
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    // Every version before the one that parks lanes (found by what it creates, so migrations
    // added after it leave this test alone).
    const before = POSTGRES_MIGRATIONS.findIndex((m) => m.includes('CREATE INDEX lanes_next_run'));
    expect(before).toBeGreaterThan(0);
    try {
      await client.query(`CREATE SCHEMA ${schema.name}`);
      await client.query(`SET search_path TO ${schema.name}`);
      await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      for (let v = 1; v <= before; v++) {
        await client.query(POSTGRES_MIGRATIONS[v - 1]!);
        await client.query('INSERT INTO schema_migrations VALUES ($1, 0)', [v]);
      }
      const now = Date.now();
      await client.query(
        `INSERT INTO destinations (id, name, settings, created_at, updated_at) VALUES ($1, 'A', $2, 0, 0)`,
        [DEST, JSON.stringify(SETTINGS)],
      );
      await client.query(
        `INSERT INTO events (destination_id, lane_key, message_id, type, payload, status, received_at, updated_at)
         VALUES ($1, 'busy', 'm1', 'track', $2, 'pending', 0, 0)`,
        [DEST, JSON.stringify(trackEvent('busy'))],
      );
      await client.query(
        `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at, leased_by, lease_until) VALUES
           ($1, 'busy', 1, $2, NULL, NULL), ($1, 'empty', 0, $2, NULL, NULL), ($1, 'leased', 0, $3, 'w0', $3)`,
        [DEST, now - 1000, now + 60_000],
      );
    } finally {
      await client.end();
    }

    const store = await schema.open();
    const { rows: indexes } = await schema.admin.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND tablename = 'lanes' ORDER BY 1`,
      [schema.name],
    );
    expect(indexes.map((i) => i.name)).toEqual(['lanes_next_run', 'lanes_pkey']);
    const rows = await laneRows();
    expect(rows.map((r) => [r.lane_key, r.next_run_at === String(PARKED_AT)])).toEqual([
      ['busy', false],
      ['empty', true],
      ['leased', false],
    ]);
    const claimed = await store.claimLanes('w', 10, 30_000, 4);
    expect(claimed.map((l) => [l.laneKey, l.events.length])).toEqual([['busy', 1]]);
  });
});
