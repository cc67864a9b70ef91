import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PostgresEventStore } from '../../src/delivery/postgres-store.ts';
import { DeliveryWorker, type DeliveryResult } from '../../src/delivery/worker.ts';
import { SETTINGS, batchOf, deferred, trackEvent, until, type Deferred } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

const DEST = 'dest-a';
const delivered = (): DeliveryResult => ({ state: 'delivered', calls: [], warnings: [] });

/**
 * Claims when nothing is due (issue 22): a lane that runs out of events used to claim again to
 * fill its slot, so at the tail of a drain every finishing lane of every worker sent a claim that
 * found nothing. Counted, not timed: the poll is an hour, so every claim here is a wake-up's.
 */
describe('PostgreSQL worker: no claim per finishing lane when nothing is due', () => {
  let schema: TestSchema;
  let store: PostgresEventStore;
  let claims: number;
  let emptyClaims: number;

  beforeEach(async () => {
    schema = new TestSchema();
    store = await schema.open();
    await store.createDestination({ id: DEST, name: 'A', settings: SETTINGS });
    claims = 0;
    emptyClaims = 0;
    const claim = store.claimLanes.bind(store);
    store.claimLanes = async (...args) => {
      claims++;
      const lanes = await claim(...args);
      if (lanes.length === 0) emptyClaims++;
      return lanes;
    };
  });
  afterEach(async () => {
    await schema.dispose();
  });

  it('20 lanes finishing one after another with nothing else due send no claim after the first', async () => {
    const lanes = Array.from({ length: 20 }, (_, i) => `u${i}`);
    await store.append(batchOf(DEST, lanes.map((l) => trackEvent(l))));
    const gates = new Map<string, Deferred<void>>(lanes.map((l) => [l, deferred<void>()]));
    const settled: string[] = [];
    const worker = new DeliveryWorker({
      store,
      concurrency: 32,
      pollMs: 3_600_000,
      deliver: async (_d, event) => {
        await gates.get(event.laneKey)!.promise;
        return delivered();
      },
    });
    worker.on('settled', (s) => settled.push(s.event.laneKey));
    worker.start();
    try {
      await until(() => worker.inFlight === 20);
      // One lane at a time: each finishes (settled, given back, its slot freed) before the next.
      for (const lane of lanes) {
        gates.get(lane)!.resolve();
        await until(() => settled.includes(lane) && worker.inFlight === 20 - settled.length);
      }
    } finally {
      await worker.stop();
    }
    expect(settled.sort()).toEqual([...lanes].sort());
    // The first claim took all 20 lanes; the LISTEN connection's first look may add one that finds
    // nothing. One claim per finishing lane (the old behaviour) would make 21 or more.
    expect(claims).toBeLessThanOrEqual(2);
    expect(emptyClaims).toBeLessThanOrEqual(1);
    expect(await store.backlog()).toBe(0);
  });

  it('work that arrives while it is idle is still claimed at once (the append wakes it, not the poll)', async () => {
    await store.append(batchOf(DEST, [trackEvent('first')]));
    const seen: string[] = [];
    const worker = new DeliveryWorker({
      store,
      concurrency: 8,
      pollMs: 3_600_000,
      deliver: async (_d, event) => {
        seen.push(event.laneKey);
        return delivered();
      },
    });
    worker.start();
    try {
      await until(() => seen.length === 1 && worker.inFlight === 0);
      await store.append(batchOf(DEST, [trackEvent('later'), trackEvent('first')]));
      await until(() => seen.length === 3);
    } finally {
      await worker.stop();
    }
    expect(seen.sort()).toEqual(['first', 'first', 'later']);
  });
});
