import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { CREDENTIALS, stackEnv } from '../e2e/harness.ts';
import { freePort, metric, startChild, type ChildServer } from '../e2e/child-server.ts';
import { AcknowledgedSender } from './support/acknowledged-sender.ts';
import { checkSequences, isApplied, sequencedEvent, userIdOf } from './support/delivered-sequences.ts';
import { reportFigures } from './support/figures.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { STARTUP_MS, budgetMs, size } from './support/scale.ts';

// Issue 9, crashes (SQLite): a real `serve` process is SIGKILLed at seeded random moments while
// clients post batches (some kills land with a POST in flight) and while it delivers, then
// restarted on the same file. Every acknowledged event must reach Sailthru, each user's events in
// order; an event may be applied twice only when it was in flight at a kill, so duplicates are
// bounded by the lanes a process holds (DELIVERY_CONCURRENCY + DELIVERY_WAITING_LANES) per kill.
const EVENTS = size(2_000, 20_000);
const USERS = size(100, 400);
const PER_USER = EVENTS / USERS;
const KILLS = size(3, 5);
/** Kills while clients are still posting; the rest land once ingest is over, during delivery only. */
const INGEST_KILLS = size(2, 3);
const POSTERS = 4;
const BATCH = 50;
const CONCURRENCY = 8;
/** Lanes that may wait in the rate gate on top of CONCURRENCY: a process holds (and can have in flight) at most the sum. */
const WAITING_LANES = CONCURRENCY;
const LANES_HELD = CONCURRENCY + WAITING_LANES;
const SEED = seedFromEnv(9001);

let emulator: RunningEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({
    apiKey: CREDENTIALS.apiKey,
    secret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    limits: { 'POST /event': 10_000_000, 'POST /user': 10_000_000 },
    maxRequestLog: 1_000_000,
    // Each call takes a while, so every kill finds deliveries in flight.
    faults: { latencyMs: 8 },
  });
  dir = mkdtempSync(join(tmpdir(), 'st-rel-crash-'));
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface KillRecord {
  phase: 'ingest' | 'delivery';
  acknowledged: number;
  sailthruCalls: number;
  postsInFlight: number;
}

/** Batches of one poster: its users' events in seq order, so each user's order is the send order. */
function batchesOf(poster: number): unknown[][] {
  const events: unknown[] = [];
  for (let seq = 0; seq < PER_USER; seq++) {
    for (let u = poster; u < USERS; u += POSTERS) events.push(sequencedEvent('crash', u, seq));
  }
  const batches: unknown[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  return batches;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('SIGKILL rounds during ingest and delivery (SQLite)', () => {
  it(
    'delivers every acknowledged event in per-user order; duplicates only from events in flight at a kill',
    async () => {
      const random = new Random(SEED);
      const env = stackEnv(emulator.url, dir, {
        PORT: String(await freePort()),
        DELIVERY_CONCURRENCY: String(CONCURRENCY),
        DELIVERY_WAITING_LANES: String(WAITING_LANES),
        SAILTHRU_RATE_LIMITS: 'POST=1000000,POST /user=1000000',
        LEASE_MS: '2000',
        RETRY_BASE_MS: '20',
        LOG_LEVEL: 'warn',
      });
      const t0 = Date.now();
      let server: ChildServer = await startChild(['serve'], env, STARTUP_MS);
      const sender = new AcknowledgedSender(() => server.url, 'e2e-write-key');
      const kills: KillRecord[] = [];

      const kill = async (phase: KillRecord['phase']) => {
        kills.push({ phase, acknowledged: sender.acknowledgedEvents, sailthruCalls: emulator.lastRequestSeq, postsInFlight: sender.inFlight });
        server.process.kill('SIGKILL');
        expect((await server.exited).signal).toBe('SIGKILL');
        server = await startChild(['serve'], env, STARTUP_MS);
      };

      // Seeded kill points: fractions of the events acknowledged, then of the calls Sailthru got.
      const ingestPoints = Array.from({ length: INGEST_KILLS }, () => 0.1 + random.next() * 0.8).sort((a, b) => a - b);
      const deliveryPoints = Array.from({ length: KILLS - INGEST_KILLS }, () => 0.15 + random.next() * 0.6).sort((a, b) => a - b);

      const posting = Promise.all(
        Array.from({ length: POSTERS }, async (_, p) => {
          for (const batch of batchesOf(p)) await sender.send(batch);
        }),
      );
      let ingestDone = false;
      void posting.finally(() => (ingestDone = true));

      for (const point of ingestPoints) {
        await until(() => ingestDone || sender.acknowledgedEvents >= point * EVENTS, 120_000, 'ingest progress');
        if (ingestDone) break;
        // A kill with a batch POST on the wire: its client sees the connection die and re-sends.
        await until(() => sender.inFlight > 0 || ingestDone, 10_000, 'a POST in flight');
        await kill('ingest');
      }
      await posting;
      const ingestSeconds = (Date.now() - t0) / 1000;
      const callsAtIngestEnd = emulator.lastRequestSeq;
      for (const point of deliveryPoints) {
        const target = callsAtIngestEnd + point * Math.max(0, EVENTS - callsAtIngestEnd);
        await until(() => emulator.lastRequestSeq >= target, 180_000, 'delivery progress');
        await kill('delivery');
      }

      const deadline = Date.now() + budgetMs(90_000, 600_000);
      while ((await metric(server.url, 'sailthru_destination_backlog_events')) > 0) {
        if (Date.now() > deadline) throw new Error('backlog did not drain');
        await new Promise((r) => setTimeout(r, 200));
      }
      const totalSeconds = (Date.now() - t0) / 1000;
      server.process.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);

      expect(sender.unexpected).toEqual([]);
      expect(sender.acknowledgedEvents).toBe(EVENTS);
      expect(kills.length).toBe(KILLS);
      // Every delivery kill found events still to deliver (the kills really hit delivery).
      for (const k of kills) expect(k.sailthruCalls).toBeLessThan(EVENTS);

      const expected = new Map(Array.from({ length: USERS }, (_, u) => [userIdOf('crash', u), PER_USER] as const));
      const report = checkSequences(emulator.requests(), expected);
      expect(report.problems).toEqual([]);
      expect(report.duplicates).toBeLessThanOrEqual(LANES_HELD * KILLS);

      // The store agrees: nothing unsettled, nothing dead-lettered, every event delivered once.
      const store = await openSqliteStore({ path: join(dir, 'e2e.db') });
      try {
        const backlog = await store.backlogByDestination();
        expect(backlog.reduce((n, b) => n + b.unsettled + b.failed, 0)).toBe(0);
        let applied = 0;
        let skippedUnchanged = 0;
        for (const status of ['delivered', 'skipped'] as const) {
          let beforeId: number | undefined;
          for (;;) {
            const page = await store.search({ status, limit: 500, ...(beforeId !== undefined ? { beforeId } : {}) });
            applied += page.events.filter(isApplied).length;
            if (status === 'skipped') skippedUnchanged += page.events.length;
            if (page.nextBeforeId === null) break;
            beforeId = page.nextBeforeId;
          }
        }
        expect(applied).toBe(EVENTS);
        // A skip as unchanged only follows a kill between Sailthru's answer and the settle.
        expect(skippedUnchanged).toBeLessThanOrEqual(LANES_HELD * KILLS);
      } finally {
        await store.close();
      }

      reportFigures('sqlite-crash', {
        seed: SEED,
        events: EVENTS,
        users: USERS,
        kills: kills.length,
        ingestKills: kills.filter((k) => k.phase === 'ingest').length,
        deliveryKills: kills.filter((k) => k.phase === 'delivery').length,
        killsWithPostInFlight: kills.filter((k) => k.postsInFlight > 0).length,
        postsCutByKills: sender.cutRequests,
        postsRefusedWhileDown: sender.refusedRequests,
        applied: report.applied,
        duplicates: report.duplicates,
        duplicateBound: LANES_HELD * KILLS,
        lost: 0,
        orderViolations: report.problems.length,
        ingestSeconds: ingestSeconds.toFixed(1),
        totalSeconds: totalSeconds.toFixed(1),
      });
    },
    budgetMs(300_000, 900_000),
  );
});
