import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.ts';
import { openSqliteStore, type SqliteEventStore } from '../../src/delivery/sqlite-store.ts';
import type { LaneQueue } from '../../src/delivery/store.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { batchOf, emulatorSettings, tempDir, trackEvent, until } from './helpers.ts';

/**
 * A saturated endpoint must not starve the others (issue 19 item 3): a lane waiting in the rate
 * gate for POST /event gives up its delivery slot, so a lane of identifies queued behind many
 * lanes of custom events reaches Sailthru while those are still going out at POST /event's
 * limit. The real chain: SQLite lane queue → worker → registry → Sailthru client → rate gate →
 * emulator over HTTP. Order is read from the emulator's request log, never from a clock.
 */
describe('a lane waiting for one endpoint does not hold a slot another endpoint could use', () => {
  /** POST /event per second in our gate. */
  const EVENT_LIMIT = 4;
  /**
   * The emulator's, one more: its windows are fixed (aligned to the second) and counted on
   * arrival, ours slide and count on sending, so under a loaded machine a call sent at the end of
   * one second can arrive in the next and meet a full window (a 429 these tests once saw at load
   * 10–14). The spare call absorbs that jitter; a gate that did not pace would still send 24 or
   * 40 at once and meet 429s.
   */
  const EMULATOR_EVENT_LIMIT = EVENT_LIMIT + 1;
  let emulator: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  let registry: DestinationRegistry;
  let worker: DeliveryWorker | null;

  beforeEach(async () => {
    emulator = await startEmulator({ windowMs: 1000, limits: { 'POST /event': EMULATOR_EVENT_LIMIT } });
    tmp = tempDir('gate-slots-');
    store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
    await store.createDestination({
      id: 'main',
      name: 'Main',
      settings: emulatorSettings(emulator),
    });
    registry = new DestinationRegistry({ directory: store, rateLimits: { 'POST /event': EVENT_LIMIT } });
    worker = null;
  });

  afterEach(async () => {
    await worker?.stop();
    await registry.close();
    await store.close();
    await emulator.close();
    tmp.remove();
  });

  /** `lanes` users with `perLane` custom events each, appended before anything else. */
  async function queueCustomLanes(lanes: number, perLane: number): Promise<void> {
    const events: SegmentEvent[] = [];
    for (let seq = 0; seq < perLane; seq++) {
      for (let u = 0; u < lanes; u++) events.push(trackEvent(`custom-${u}`, { event: 'Step Done', properties: { seq } }));
    }
    await store.append(batchOf('main', events));
  }

  /** Claims take lanes in the order they became due: wait for the clock to move past the custom lanes'. */
  async function afterThisMillisecond(): Promise<void> {
    const t = Date.now();
    await until(() => Date.now() > t, 1);
  }

  it('delivers an identify queued after 8 lanes of custom events before half of those events, with 2 delivery slots', async () => {
    await queueCustomLanes(8, 3);
    await afterThisMillisecond();
    const identify: SegmentEvent = { type: 'identify', messageId: 'late-identify', userId: 'late-user', traits: { email: 'late@example.com' } };
    await store.append(batchOf('main', [identify]));

    worker = new DeliveryWorker({ store, deliver: registry.deliver, concurrency: 2, waitingLanes: 16, pollMs: 20 });
    worker.start();
    const customs = () => emulator.requests({ method: 'POST', path: '/event' }).filter((r) => r.status === 200);
    const identifies = () => emulator.requests({ method: 'POST', path: '/user' }).filter((r) => r.status === 200);
    await until(() => identifies().length > 0 || customs().length === 24, 10);

    const [user] = identifies();
    expect(user, 'the identify was delivered').toBeDefined();
    const customsBefore = customs().filter((r) => r.seq < user!.seq).length;
    // Without the change the 2 slots hold custom lanes waiting for POST /event until 7 of the 8
    // lanes are through: 21 custom events reached the emulator first.
    expect(customsBefore).toBeLessThan(12);
    // Every custom lane was held at once (2 delivering + the ones waiting for POST /event's budget).
    await until(() => customs().length === 24, 10);
    expect(emulator.requests({ method: 'POST' }).filter((r) => r.status === 429)).toEqual([]);
    for (let u = 0; u < 8; u++) {
      const seqs = customs()
        .map((r) => r.payload as { id: string; vars?: { seq?: number } })
        .filter((p) => p.id === `custom-${u}`)
        .map((p) => p.vars?.seq);
      expect(seqs, `custom-${u} in order, once each`).toEqual([0, 1, 2]);
    }
  });

  it('reaches an identify queued behind more custom lanes than it may hold: lanes whose endpoint is crowded yield', async () => {
    // 40 lanes ahead, 8 held at most: only lanes giving theirs back let the worker reach the 41st.
    await queueCustomLanes(40, 1);
    await afterThisMillisecond();
    const identify: SegmentEvent = { type: 'identify', messageId: 'deep-identify', userId: 'deep-user', traits: { email: 'deep@example.com' } };
    await store.append(batchOf('main', [identify]));

    const w = new DeliveryWorker({ store, deliver: registry.deliver, crowded: registry.crowded, concurrency: 4, waitingLanes: 4, pollMs: 20 });
    worker = w;
    w.start();
    const customs = () => emulator.requests({ method: 'POST', path: '/event' }).filter((r) => r.status === 200);
    const identifies = () => emulator.requests({ method: 'POST', path: '/user' }).filter((r) => r.status === 200);
    await until(() => identifies().length > 0 || customs().length === 40, 10);

    const [user] = identifies();
    expect(user, 'the identify was delivered').toBeDefined();
    // Without yielding, the 8 lanes held are custom lanes until 32 of them are through. Each
    // event delivered earns one yield (4 to start with), so about 14 go out before the worker
    // has passed the 40 lanes ahead (delivered + yielded + held ≥ 40).
    expect(customs().filter((r) => r.seq < user!.seq).length).toBeLessThan(26);
    expect(w.yielded).toBeGreaterThan(0);
    expect(emulator.requests({ method: 'POST' }).filter((r) => r.status === 429)).toEqual([]);
    // Yielded lanes were released, not settled: every custom event is still delivered, once.
    await until(() => customs().length === 40, 10);
    await until(async () => (await store.backlog()) === 0, 10);
    const ids = customs().map((r) => (r.payload as { id: string }).id);
    expect(new Set(ids).size).toBe(40);
    expect(await store.search({ status: ['failed', 'retrying'] })).toMatchObject({ events: [] });
  });

  it('holds at most concurrency + waitingLanes lanes, however many lanes wait for the endpoint', async () => {
    await queueCustomLanes(12, 1);
    /** Lanes held plus lanes asked for, at each claim: what the worker could hold after it. */
    let mostHeld = 0;
    let mostWaiting = 0;
    let w: DeliveryWorker | null = null;
    // The lane queue as the worker sees it, noting at each claim how many lanes it would then hold.
    const queue: LaneQueue = {
      claimLanes: (workerId, limit, leaseMs, window) => {
        mostHeld = Math.max(mostHeld, (w?.inFlight ?? 0) + limit);
        mostWaiting = Math.max(mostWaiting, w?.waitingForBudget ?? 0);
        return store.claimLanes(workerId, limit, leaseMs, window);
      },
      head: (lane) => store.head(lane),
      settle: (input) => store.settle(input),
      settleLane: (input) => store.settleLane(input),
      renewLeases: (workerId, lanes, leaseMs) => store.renewLeases(workerId, lanes, leaseMs),
      releaseLane: (workerId, lane) => store.releaseLane(workerId, lane),
      earlierUnsettled: (destinationId, laneKeys, beforeId) => store.earlierUnsettled(destinationId, laneKeys, beforeId),
      deferLane: (workerId, lane, dueAt) => store.deferLane(workerId, lane, dueAt),
      wakeRetryingLanes: (destinationId) => store.wakeRetryingLanes(destinationId),
      onWorkAvailable: (listener) => store.onWorkAvailable(listener),
    };
    w = new DeliveryWorker({ store: queue, deliver: registry.deliver, concurrency: 2, waitingLanes: 3, pollMs: 20 });
    worker = w;
    w.start();
    await until(async () => (await store.backlog()) === 0, 10);

    expect(mostHeld).toBeLessThanOrEqual(5);
    // Not a vacuous bound: lanes did wait for POST /event, and more lanes than slots were held.
    expect(mostWaiting).toBeGreaterThan(0);
    expect(mostHeld).toBeGreaterThan(2);
    expect(emulator.requests({ method: 'POST', path: '/event' }).filter((r) => r.status === 200)).toHaveLength(12);
  });
});
