import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, parseDatabaseUrl } from '../../src/delivery/open-store.ts';
import { POSTGRES_MIGRATIONS } from '../../src/delivery/postgres/schema.ts';
import { PostgresEventStore } from '../../src/delivery/postgres-store.ts';
import { RetryPolicy } from '../../src/delivery/retry-policy.ts';
import type { LaneLease, QueuedEvent } from '../../src/delivery/store.ts';
import { DeliveryWorker, type DeliveryResult } from '../../src/delivery/worker.ts';
import { storeContract } from './store-contract.ts';
import { FakeClock, SETTINGS, batchOf, prng, trackEvent, until } from './helpers.ts';
import { TEST_DATABASE_URL, TestSchema } from './postgres-helpers.ts';

storeContract('PostgreSQL', async () => {
  const schema = new TestSchema();
  return {
    open: (clock) => schema.open({ clock }),
    persistedBytes: () => schema.persistedBytes(),
    dispose: () => schema.dispose(),
  };
});

const DEST = 'dest-a';
const delivered = (): DeliveryResult => ({ state: 'delivered', calls: [], warnings: [] });

describe('PostgreSQL store: several processes on one database', () => {
  let schema: TestSchema;
  beforeEach(() => {
    schema = new TestSchema();
  });
  afterEach(async () => {
    await schema.dispose();
  });

  /** Two "processes": two stores, each with its own pool, on one schema. */
  async function twoProcesses(clock?: FakeClock): Promise<[PostgresEventStore, PostgresEventStore]> {
    const a = await schema.open(clock ? { clock } : {});
    const b = await schema.open(clock ? { clock } : {});
    await a.createDestination({ id: DEST, name: 'A', settings: SETTINGS });
    return [a, b];
  }

  it('migrates once when several processes start together, and again harmlessly', async () => {
    const stores = await Promise.all([schema.open(), schema.open(), schema.open(), schema.open()]);
    const { rows } = await schema.admin.query<{ n: number; v: number }>(
      `SELECT count(*)::int AS n, max(version) AS v FROM ${schema.name}.schema_migrations`,
    );
    expect(rows[0]).toEqual({ n: POSTGRES_MIGRATIONS.length, v: POSTGRES_MIGRATIONS.length });
    await stores[0]!.migrate();
    const again = await schema.open();
    expect(await again.listDestinations()).toEqual([]);
  });

  it('an outage wake waits for a lane an append holds locked, and wakes it too', async () => {
    const clock = new FakeClock();
    const [a] = await twoProcesses(clock);
    await a.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u2')]));
    await a.claimLanes('w1', 10, 30_000);
    for (const laneKey of ['u1', 'u2']) {
      const head = (await a.head({ destinationId: DEST, laneKey }))!;
      await a.settle({
        event: { id: head.id, destinationId: DEST, laneKey },
        workerId: 'w1',
        settlement: { state: 'retrying', reason: 'Could not reach api.sailthru.com', nextAttemptAt: new Date(clock.now() + 60_000) },
        attempt: { startedAt: new Date(clock.now()), durationMs: 1, calls: [], warnings: [] },
      });
    }
    // Another transaction holds u1's lane row, as an append of u1's next event does until it commits.
    const holder = await schema.admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${schema.name}.lanes WHERE lane_key = 'u1' FOR UPDATE`);
      let settled = false;
      const waking = a.wakeRetryingLanes(DEST).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 200));
      expect(settled).toBe(false);
      await holder.query('COMMIT');
      expect(await waking).toBe(2);
    } finally {
      holder.release();
    }
    expect((await a.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey).sort()).toEqual(['u1', 'u2']);
    for (const laneKey of ['u1', 'u2']) {
      expect((await a.head({ destinationId: DEST, laneKey }))!.nextAttemptAt?.getTime()).toBe(clock.now());
    }
  });

  it('two claimers in parallel never get the same lane', async () => {
    const [a, b] = await twoProcesses();
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    await a.append(batchOf(DEST, users.map((u) => trackEvent(u))));
    const claims: Array<LaneLease & { by: string }> = [];
    // Six claimers over two pools, each grabbing small handfuls as fast as it can.
    const claimer = async (store: PostgresEventStore, id: string) => {
      for (;;) {
        const got = await store.claimLanes(id, 7, 60_000);
        if (got.length === 0) return;
        claims.push(...got.map((l) => ({ ...l, by: id })));
      }
    };
    await Promise.all([a, b, a, b, a, b].map((store, i) => claimer(store, `w${i}`)));
    const keys = claims.map((c) => c.laneKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual([...users].sort());
    // The work really was shared out, not taken by one claimer before the others started.
    expect(new Set(claims.map((c) => c.by)).size).toBeGreaterThan(1);
    expect(await b.claimLanes('late', 100, 60_000)).toEqual([]);
  });

  it('a lane whose worker died comes back when its lease runs out, and another process finishes it in order', async () => {
    const clock = new FakeClock();
    const [a, b] = await twoProcesses(clock);
    const events = [trackEvent('u1'), trackEvent('u2'), trackEvent('u1'), trackEvent('u1')];
    await a.append(batchOf(DEST, events));
    expect((await a.claimLanes('doomed', 10, 30_000)).map((l) => l.laneKey).sort()).toEqual(['u1', 'u2']);
    // The claiming process dies: no renewal, no release, its connections gone.
    await a.close();

    const seen: string[] = [];
    const worker = new DeliveryWorker({
      store: b,
      clock,
      pollMs: 10,
      leaseMs: 30_000,
      deliver: async (_d, event) => {
        seen.push(event.messageId);
        return delivered();
      },
    });
    worker.start();
    try {
      expect(await b.claimLanes('peek', 10, 30_000)).toEqual([]);
      // Polls find nothing while the dead worker's lease lasts.
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([]);
      clock.advance(30_001);
      await until(() => seen.length === 4);
    } finally {
      await worker.stop();
    }
    expect(seen.filter((m) => m !== events[1]!.messageId)).toEqual([events[0], events[2], events[3]].map((e) => e!.messageId));
    expect(await b.backlog()).toBe(0);
  });

  it('NOTIFY wakes an idle listener, and a worker that never polls, in another process', async () => {
    const [a, b] = await twoProcesses();
    let heard = 0;
    a.onWorkAvailable(() => heard++);
    await a.listening();
    const before = heard;
    await b.append(batchOf(DEST, [trackEvent('u1')]));
    await until(() => heard > before);

    const done: string[] = [];
    const worker = new DeliveryWorker({
      store: a,
      pollMs: 3_600_000,
      deliver: async (_d, event) => {
        done.push(event.messageId);
        return delivered();
      },
    });
    worker.start();
    try {
      const more = [trackEvent('u2'), trackEvent('u3')];
      await until(() => done.length === 1); // the event appended before the worker started
      await b.append(batchOf(DEST, more));
      await until(() => done.length === 3);
      expect(done.slice(1).sort()).toEqual(more.map((e) => e.messageId).sort());
    } finally {
      await worker.stop();
    }
  });

  it('two workers in two processes, appends arriving meanwhile, transient failures: every event once, every user in order', async () => {
    const [a, b] = await twoProcesses();
    const random = prng(7);
    const attemptsByUser = new Map<string, number[]>();
    const deliveredIds: string[] = [];
    const problems: unknown[] = [];
    const deliver = async (_d: string, event: QueuedEvent): Promise<DeliveryResult> => {
      const n = (event.payload.properties as { n: number }).n;
      const list = attemptsByUser.get(event.laneKey) ?? [];
      list.push(n);
      attemptsByUser.set(event.laneKey, list);
      await new Promise((r) => setImmediate(r));
      if (random() < 0.2) return { state: 'retry', reason: 'HTTP 500', calls: [], warnings: [] };
      deliveredIds.push(event.messageId);
      return delivered();
    };
    const workers = [a, b].map(
      (store) => new DeliveryWorker({ store, deliver, concurrency: 8, pollMs: 20, retryPolicy: new RetryPolicy({ baseMs: 2, capMs: 10 }) }),
    );
    for (const w of workers) {
      w.on('problem', (e) => problems.push(e));
      w.start();
    }
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const sent: string[] = [];
    try {
      // Round r carries each user's r-th event; rounds go alternately to the two processes,
      // each only after the previous one was acknowledged, so per user the order is defined.
      for (let round = 0; round < 12; round++) {
        const events = users.map((u) => trackEvent(u, { properties: { n: round } }));
        sent.push(...events.map((e) => e.messageId));
        await (round % 2 === 0 ? a : b).append(batchOf(DEST, events));
      }
      await until(() => deliveredIds.length >= sent.length);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    expect(problems).toEqual([]);
    expect(deliveredIds.length).toBe(sent.length);
    expect(new Set(deliveredIds).size).toBe(sent.length);
    for (const u of users) {
      const attempts = attemptsByUser.get(u)!;
      // Attempts never go back: a later event is never tried before an earlier one succeeded.
      expect(attempts).toEqual([...attempts].sort((x, y) => x - y));
      expect(new Set(attempts).size).toBe(12);
    }
    expect(await a.backlog()).toBe(0);
    const { rows } = await schema.admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema.name}.lanes WHERE pending <> 0`);
    expect(rows[0]!.n).toBe(0);
  });

  it('settles of several lanes waiting together share one statement, each answered for its own lane', async () => {
    const [a] = await twoProcesses();
    const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
    await a.append(batchOf(DEST, users.flatMap((u) => [trackEvent(u), trackEvent(u)])));
    const leases = await a.claimLanes('w', 50, 30_000, 1);
    expect(leases).toHaveLength(12);
    const before = a.groupedStatements.settles;
    const results = await Promise.all(
      leases.map((lease) =>
        a.settleLane({
          lane: lease,
          workerId: 'w',
          heads: [{ event: lease.events[0]!, settlement: { state: 'delivered' }, attempt: { startedAt: new Date(), durationMs: 1, calls: [], warnings: [] } }],
          then: 'continue',
          window: 4,
        }),
      ),
    );
    // The first goes alone at once; the eleven that waited for it go together.
    expect(a.groupedStatements.settles - before).toBe(2);
    results.forEach((r, i) => {
      expect(r.applied).toEqual([true]);
      expect(r.released).toBe(false);
      expect(r.next.map((e) => e.laneKey)).toEqual([leases[i]!.laneKey]);
      expect(r.next[0]!.id).toBeGreaterThan(leases[i]!.events[0]!.id);
    });
    expect(await a.backlog()).toBe(12);
    const links = await Promise.all(users.map((u) => a.linkIdentity(DEST, `anon-${u}`, u)));
    expect(links).toHaveLength(12);
    expect(await Promise.all(users.map((u) => a.linkedUserId(DEST, `anon-${u}`)))).toEqual(users);
    expect(a.groupedStatements.identityWrites).toBe(2);
    expect(a.groupedStatements.identityReads).toBe(2);
  });

  it('stores a batch sent to two processes at once only once', async () => {
    const [a, b] = await twoProcesses();
    const events = Array.from({ length: 50 }, (_, i) => trackEvent(`u${i % 7}`));
    const results = await Promise.all([a.append(batchOf(DEST, events)), b.append(batchOf(DEST, events))]);
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(50);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(50);
    expect((await a.search({ limit: 500 })).events).toHaveLength(50);
    expect(await b.backlog()).toBe(50);
  });

  it('commits concurrent appends of one process together, each answered with its own counts', async () => {
    const [a] = await twoProcesses();
    const repeat = trackEvent('u0');
    const before = a.commitCount;
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => a.append(batchOf(DEST, i === 3 ? [repeat, trackEvent('u3')] : [trackEvent(`u${i}`), repeat]))),
    );
    expect(a.commitCount - before).toBe(1);
    expect(results[0]).toEqual({ stored: 2, duplicates: 0 });
    expect(results[3]).toEqual({ stored: 1, duplicates: 1 });
    expect(results.slice(1).every((r) => r.stored === 1 && r.duplicates === 1)).toBe(true);
    expect(await a.backlog()).toBe(26);
  });

  it('keeps ids, lanes and searches working for keys PostgreSQL text cannot hold (NUL)', async () => {
    const [a] = await twoProcesses();
    const odd = trackEvent('nul\u0000user', { messageId: 'm\u0000id', event: 'Odd\u0000Name' });
    expect(await a.append(batchOf(DEST, [odd]))).toEqual({ stored: 1, duplicates: 0 });
    expect(await a.append(batchOf(DEST, [odd]))).toEqual({ stored: 0, duplicates: 1 });
    const [lease] = await a.claimLanes('w', 10, 30_000);
    const head = (await a.head(lease!))!;
    expect(head.payload).toEqual(odd);
    expect((await a.search({ laneKey: 'nul\u0000user' })).events.map((e) => e.id)).toEqual([head.id]);
    expect((await a.search({ messageId: 'm\u0000id' })).events.map((e) => e.id)).toEqual([head.id]);
    const settled = await a.settle({
      event: head,
      workerId: 'w',
      settlement: { state: 'delivered' },
      attempt: { startedAt: new Date(), durationMs: 1, calls: [], warnings: [] },
    });
    expect(settled.applied).toBe(true);
    expect(await a.backlog()).toBe(0);
  });

  it('stores an attempt’s calls once, on the attempt row, and reads them back into the outcome', async () => {
    const [a] = await twoProcesses();
    await a.append(batchOf(DEST, [trackEvent('u1')]));
    const [lease] = await a.claimLanes('w', 10, 30_000, 4);
    const head = lease!.events[0]!;
    const call = { method: 'POST' as const, endpoint: '/event', payload: { id: 'u1', marker: 'calls-once-marker' }, status: 200, durationMs: 3 };
    await a.settleLane({
      lane: lease!,
      workerId: 'w',
      heads: [{ event: head, settlement: { state: 'delivered' }, attempt: { startedAt: new Date(), durationMs: 3, calls: [call], warnings: ['w1'] } }],
      then: 'continue',
      window: 4,
    });
    const raw = await schema.admin.query<{ outcome: string; calls: string }>(
      `SELECT e.outcome::text AS outcome, a.calls::text AS calls FROM ${schema.name}.events e JOIN ${schema.name}.attempts a ON a.event_id = e.id WHERE e.id = $1`,
      [head.id],
    );
    expect(raw.rows).toHaveLength(1);
    expect(raw.rows[0]!.outcome).not.toContain('calls-once-marker');
    expect(raw.rows[0]!.calls).toContain('calls-once-marker');
    const expected = { state: 'delivered', calls: [call], warnings: ['w1'] };
    expect((await a.getEvent(head.id))!.event.outcome).toEqual(expected);
    expect((await a.search({ laneKey: 'u1' })).events[0]!.outcome).toEqual(expected);
    // A row written before (its calls in the outcome) reads as it did.
    const old = { state: 'delivered', calls: [{ ...call, status: 201 }], warnings: [] };
    await schema.admin.query(`UPDATE ${schema.name}.events SET outcome = $1::json WHERE id = $2`, [JSON.stringify(old), head.id]);
    expect((await a.getEvent(head.id))!.event.outcome).toEqual(old);
  });

  it('is what openStore gives for postgres:// with ?schema= and pool_max=', async () => {
    const store = await openStore(schema.url('&pool_max=3'));
    try {
      expect(store).toBeInstanceOf(PostgresEventStore);
      expect((store as PostgresEventStore).schema).toBe(schema.name);
      expect((store as PostgresEventStore).pool.options.max).toBe(3);
      await store.createDestination({ id: DEST, name: 'A', settings: SETTINGS });
      const { rows } = await schema.admin.query<{ id: string }>(`SELECT id FROM ${schema.name}.destinations`);
      expect(rows).toEqual([{ id: DEST }]);
    } finally {
      await store.close();
    }
  });
});

describe('DATABASE_URL for PostgreSQL', () => {
  it('takes schema and pool_max out of the URL and keeps the rest', () => {
    expect(parseDatabaseUrl('postgres://u:p@h:5432/db?schema=tenant_1&pool_max=5&sslmode=require')).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@h:5432/db?sslmode=require',
      schema: 'tenant_1',
      poolMax: 5,
    });
    expect(parseDatabaseUrl('postgresql://h/db?schema=s')).toEqual({ kind: 'postgres', url: 'postgresql://h/db', schema: 's' });
    expect(parseDatabaseUrl(TEST_DATABASE_URL)).toEqual({ kind: 'postgres', url: TEST_DATABASE_URL });
  });

  it('refuses a schema that is not a plain identifier, without echoing the URL', () => {
    for (const url of ['postgres://u:hunter2@h/db?schema=a;drop', 'postgres://u:hunter2@h/db?schema=Upper', 'postgres://u:hunter2@h/db?pool_max=0']) {
      let message = '';
      try {
        parseDatabaseUrl(url);
      } catch (error) {
        message = String(error);
      }
      expect(message).toMatch(/schema|pool_max/);
      expect(message).not.toContain('hunter2');
    }
  });
});
