import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PostgresEventStore } from '../../src/delivery/postgres-store.ts';
import type { LaneSettleResult, LaneSettlement, QueuedEvent } from '../../src/delivery/store.ts';
import { batchOf, SETTINGS, trackEvent, until } from '../delivery/helpers.ts';
import { TEST_DATABASE_URL, TestSchema } from '../delivery/postgres-helpers.ts';

/**
 * PostgreSQL mode settles the runs of many lanes in one statement (statement-group.ts): a group
 * that fails is tried again one request at a time. Here the group's backend is killed
 * (pg_terminate_backend) while its statement waits for a lane row another session holds: every
 * settle is still applied exactly once (one attempt row, one status change), none is lost, and
 * every lane it releases is released.
 */
describe('PostgreSQL settle group: its connection killed mid-statement', () => {
  let schema: TestSchema;
  let store: PostgresEventStore;
  let blocker: pg.Client;

  beforeEach(async () => {
    schema = new TestSchema();
    store = await schema.open({ poolMax: 6 });
    await store.createDestination({ id: 'main', name: 'Main', settings: SETTINGS });
    blocker = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema.name}` });
    await blocker.connect();
  });

  afterEach(async () => {
    await blocker.end().catch(() => {});
    await schema.dispose();
  });

  const settlement = (event: QueuedEvent, then: LaneSettlement['then']): LaneSettlement => ({
    lane: { destinationId: 'main', laneKey: event.laneKey },
    workerId: 'w1',
    then,
    window: 4,
    heads: [
      {
        event: { id: event.id, destinationId: 'main', laneKey: event.laneKey },
        settlement: { state: 'delivered' },
        attempt: { startedAt: new Date(), durationMs: 3, calls: [], warnings: [] },
      },
    ],
  });

  it('each settle of the killed group is applied once, and the lanes it released are free', async () => {
    const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
    await store.append(batchOf('main', users.map((u) => trackEvent(u))));
    const leases = await store.claimLanes('w1', users.length, 60_000, 4);
    expect(leases).toHaveLength(users.length);
    const heads = new Map(leases.map((l) => [l.laneKey, l.events[0]!]));

    // Another session holds u3's lane row: the group holding u3's settle waits for it.
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM lanes WHERE lane_key = 'u3' FOR UPDATE`);

    // The first goes alone (the one slot is free); the five others wait and go as one group.
    const settles = users.map((u) => store.settleLane(settlement(heads.get(u)!, 'release')).then(
      (r): LaneSettleResult | Error => r,
      (e: unknown): LaneSettleResult | Error => (e instanceof Error ? e : new Error(String(e))),
    ));
    // Only a backend this test's blocker holds up: other test files share the server, and their
    // settles may be waiting for locks of their own at the same moment.
    const groupPid = async (): Promise<number | null> => {
      const { rows } = await blocker.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid)) AND query LIKE '%WITH input AS%'`,
      );
      return rows[0]?.pid ?? null;
    };
    await until(async () => (await groupPid()) !== null, 20);
    const pid = (await groupPid())!;
    // From a third session: the blocker is in a transaction, and stays so until the kill is done.
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    const killed = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
    expect(killed.rows[0]!.ok).toBe(true);
    await admin.end();
    // The retries one at a time: u3's waits for the lock again; let it go.
    await new Promise((r) => setTimeout(r, 200));
    await blocker.query('COMMIT');

    const results = await Promise.all(settles);
    // Every settle answered, none with an error: the group's failure was absorbed by the retries.
    expect(results.filter((r) => r instanceof Error)).toEqual([]);
    expect(results.map((r) => (r as LaneSettleResult).applied)).toEqual(users.map(() => [true]));

    const ids = [...heads.values()].map((e) => e.id);
    const { rows: events } = await blocker.query<{ id: number; status: string; attempts: number }>(
      'SELECT id, status, attempts FROM events WHERE id = ANY($1) ORDER BY id',
      [ids],
    );
    expect(events.map((e) => [e.status, e.attempts])).toEqual(ids.map(() => ['delivered', 1]));
    const { rows: attempts } = await blocker.query<{ event_id: number; n: number }>(
      'SELECT event_id, count(*)::int AS n FROM attempts WHERE event_id = ANY($1) GROUP BY event_id ORDER BY event_id',
      [ids],
    );
    expect(attempts.map((a) => a.n)).toEqual(ids.map(() => 1));
    const { rows: lanes } = await blocker.query<{ lane_key: string; leased_by: string | null; pending: number }>(
      'SELECT lane_key, leased_by, pending FROM lanes ORDER BY lane_key',
    );
    expect(lanes.map((l) => [l.lane_key, l.leased_by, l.pending])).toEqual(users.map((u) => [u, null, 0]));
    // One alone, the group of five (killed), then those five alone.
    expect(store.groupedStatements.settles).toBe(7);
  }, 60_000);
});
