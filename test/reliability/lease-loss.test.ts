import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteEventStore } from '../../src/delivery/sqlite-store.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import type { LaneQueue, QueuedEvent } from '../../src/delivery/store.ts';
import { DeliveryWorker, type DeliveryResult } from '../../src/delivery/worker.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';

// Per-user order holds only while one lane runs in one place at a time. A worker whose lease
// renewals fail (the database hiccups) keeps delivering with a lease that has run out; once the
// lane is claimed again — by another worker, or by the same one — two loops deliver the same
// user's events at once, and the first event goes out twice, concurrently, with later ones
// racing it. The worker should stop a lane whose lease it can no longer vouch for (after the
// event in hand), and never run a second loop for a lane it is already running.
//
// The store's clock is moved past the lease instead of waiting for it; renewals are made to fail.
//
// (This test found the worker going on past a lease it could not renew, and starting a second
// loop for a lane it claimed again. Now a lane stops after the event in hand once the worker can
// no longer vouch for its lease, and a re-claim refreshes the running loop instead.)
//
// What no lease can prevent: the event in flight when the lease ran out may be delivered again by
// the worker that took the lane over. That one event, and only it, is the duplicate allowed here.

let dir: string | null = null;
let store: SqliteEventStore | null = null;
let workers: DeliveryWorker[] = [];

afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  workers = [];
  await store?.close();
  store = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function event(seq: number): SegmentEvent {
  return { type: 'track', userId: 'lease-user', messageId: `lease-${seq}`, event: 'Step', properties: { seq } };
}

/** The store, with renewLeases failing as it would while the database is unreachable. */
function withFailingRenewals(target: SqliteEventStore): LaneQueue {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop === 'renewLeases') return () => Promise.reject(new Error('database unreachable'));
      const value = Reflect.get(t, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

async function setup(now: { t: number }) {
  dir = mkdtempSync(join(tmpdir(), 'st-rel-lease-'));
  store = await openSqliteStore({ path: join(dir, 'events.db'), clock: { now: () => now.t } });
  await store.createDestination({ id: 'd', name: 'd', settings: {} as DestinationSettings });
  await store.append({ destinationId: 'd', accepted: [event(0), event(1), event(2)], rejected: [], receivedAt: new Date(now.t) });
  return store;
}

/** A deliver that holds event 0 until released, and records how many calls ran at once. */
function recordingDeliver() {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const deliver = async (_destinationId: string, e: QueuedEvent): Promise<DeliveryResult> => {
    calls.push(e.messageId);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (e.messageId === 'lease-0') await held;
      return { state: 'delivered', calls: [], warnings: [] };
    } finally {
      inFlight--;
    }
  };
  return { deliver, release, calls, maxInFlight: () => maxInFlight };
}

const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('a lane whose lease could not be renewed', () => {
  for (const who of ['the same worker', 'another worker'] as const) {
    it(`is not delivered by two loops at once when ${who} claims it again`, async () => {
      const now = { t: Date.now() };
      const s = await setup(now);
      const d = recordingDeliver();
      const clock = { now: () => now.t };
      const first = new DeliveryWorker({ store: withFailingRenewals(s), deliver: d.deliver, leaseMs: 1_000, pollMs: 20, clock, workerId: 'w1' });
      workers.push(first);
      first.start();
      await until(() => d.calls.length > 0);
      expect(d.calls).toEqual(['lease-0']);

      // The lease runs out while event 0 is in flight and no renewal gets through.
      now.t += 5_000;
      if (who === 'another worker') {
        const second = new DeliveryWorker({ store: s, deliver: d.deliver, leaseMs: 1_000, pollMs: 20, clock, workerId: 'w2' });
        workers.push(second);
        second.start();
      }
      await until(() => d.calls.length > 1, 1_500);
      d.release();
      await until(() => d.calls.filter((c) => c === 'lease-2').length > 0);
      await new Promise((r) => setTimeout(r, 200));

      if (who === 'the same worker') {
        // One loop per lane: never two calls at once, each event once, in order.
        expect(d.maxInFlight()).toBe(1);
        expect(d.calls).toEqual(['lease-0', 'lease-1', 'lease-2']);
      } else {
        // The new owner repeats only the event that was in flight; the old owner stops after it.
        expect(d.calls).toEqual(['lease-0', 'lease-0', 'lease-1', 'lease-2']);
        expect(d.maxInFlight()).toBe(2);
      }
    });
  }
});
