import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { longWait } from '../../src/delivery/cross-lane-order.ts';
import { DestinationRegistry } from '../../src/delivery/destinations.ts';
import { DeliveryMetrics } from '../../src/delivery/metrics.ts';
import { RetryPolicy } from '../../src/delivery/retry-policy.ts';
import type { EventStore, StoredEvent } from '../../src/delivery/store.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { batchOf, emulatorSettings, until } from './helpers.ts';
import { bothStores, type StoreKit } from './store-kits.ts';

/**
 * One person's two lanes (decisions.md, "Lanes are per id"): an event of userId U that carries
 * anonymousId A waits for the events of A's lane received before it, whichever store, through the
 * real chain (worker → registry → Sailthru client → emulator over HTTP). A's lane is held back in
 * each case (faults, or a lease another worker holds) so that U's lane, unordered, would overtake it.
 */

type Kit = StoreKit;

const kits = bothStores('cross-lane-');

/** The wall clock the stores and workers read; a test may step it back, as NTP may. */
const wall = { offset: 0, now: () => Date.now() + wall.offset };

const ANON = 'anon-7';
const USER = 'user-7';
let seq = 0;
const msg = () => `x-${process.pid}-${++seq}`;
const product = { product_id: 'sku-1', name: 'Monopoly', price: 19.99, quantity: 1, url: 'https://shop.example.com/p/1' };
// Cart events need a userId (SPEC.md §6): the visitor's id is sent as one before login, as case (a) of decisions.md.
const added = (): SegmentEvent => ({
  type: 'track',
  messageId: msg(),
  userId: ANON,
  event: 'Product Added',
  properties: product,
  context: { traits: { email: 'ada@example.com' } },
});
const mergingIdentify = (traits: Record<string, unknown>): SegmentEvent => ({ type: 'identify', messageId: msg(), userId: USER, anonymousId: ANON, traits });
const removed = (): SegmentEvent => ({
  type: 'track',
  messageId: msg(),
  userId: USER,
  anonymousId: ANON,
  event: 'Product Removed',
  properties: { product_id: 'sku-1', quantity: 1 },
});

describe.each(kits)('cross-lane order (%s)', (_name, makeKit) => {
  let emulator: RunningEmulator;
  let kit: Kit;
  let store: EventStore;
  let registry: DestinationRegistry;
  let worker: DeliveryWorker | null = null;
  let waits = 0;
  let metrics: DeliveryMetrics;

  beforeEach(async () => {
    emulator = await startEmulator({ port: 0 });
    wall.offset = 0;
    kit = await makeKit(wall);
    store = kit.store;
    await store.createDestination({ id: 'main', name: 'Main', settings: emulatorSettings(emulator) });
    registry = new DestinationRegistry({ directory: store, identities: store, sentProfiles: store });
    waits = 0;
    metrics = new DeliveryMetrics();
  });

  afterEach(async () => {
    await worker?.stop();
    worker = null;
    await registry.close();
    await kit.close();
    await emulator.close();
  });

  function startWorker(retry = new RetryPolicy({ baseMs: 5, capMs: 40 })): void {
    worker = new DeliveryWorker({ store, deliver: registry.deliver, concurrency: 8, pollMs: 20, retryPolicy: retry });
    worker.on('waiting', () => waits++);
    metrics.attachWorker(worker);
    worker.start();
  }

  const eventOf = async (messageId: string): Promise<StoredEvent> => (await store.search({ messageId, limit: 1 })).events[0]!;
  const settled = async (messageId: string) => !['pending', 'retrying'].includes((await eventOf(messageId)).status);
  const drained = async () => (await store.search({ status: ['pending', 'retrying'], limit: 1 })).events.length === 0;
  const okPurchases = () => emulator.requests({ path: '/purchase', method: 'POST' }).filter((r) => r.status === 200);

  it('a removal after login waits for the anonymous add that is retrying: no "Nothing to remove" dead letter', async () => {
    const add = added();
    await store.append(batchOf('main', [add]));
    const identify = mergingIdentify({ email: 'ada@example.com' });
    const removal = removed();
    await store.append(batchOf('main', [identify, removal]));
    // A's add fails while U's lane runs: unordered, U's removal finds no cart and is dead-lettered.
    emulator.setFaults({ failRate: 1, endpoints: ['POST /purchase'] });
    startWorker();
    const retrying = async () => (await eventOf(add.messageId!)).status === 'retrying';
    await until(async () => (waits > 0 && (await retrying())) || (await settled(removal.messageId!)), 10);
    emulator.setFaults({});
    await until(drained, 20);

    expect(await store.search({ status: 'failed' })).toMatchObject({ events: [] });
    expect(await eventOf(removal.messageId!)).toMatchObject({ status: 'delivered' });
    expect((await eventOf(add.messageId!)).attempts).toBeGreaterThan(1);
    // The add reached Sailthru first, then the removal emptied the merged cart.
    const purchases = okPurchases().map((r) => (r.payload as { items?: unknown[] }).items?.length ?? 0);
    expect(purchases).toEqual([1, 0]);
  });

  it('a merging identify waits for the other id’s identify in flight, and merges the profile it created', async () => {
    const first: SegmentEvent = { type: 'identify', messageId: msg(), userId: ANON, traits: { email: 'ada@example.com', seen: true } };
    await store.append(batchOf('main', [first]));
    // Another worker holds A's lane: its identify is in flight there.
    expect((await store.claimLanes('other-worker', 10, 60_000)).map((l) => l.laneKey)).toEqual([ANON]);
    const merging = mergingIdentify({ name: 'Ada' });
    await store.append(batchOf('main', [merging]));
    startWorker();
    await until(async () => waits > 0 || (await settled(merging.messageId!)), 10);
    await store.releaseLane('other-worker', { destinationId: 'main', laneKey: ANON });
    await until(drained, 20);

    const profiles = emulator.state().profiles;
    const user = profiles.find((p) => p.keys.extid === USER);
    expect(user?.keys.email).toBe('ada@example.com');
    expect(user?.vars).toMatchObject({ seen: true, name: 'Ada' });
    expect(profiles.find((p) => p.keys.extid === ANON)).toBeUndefined();
    // An operator sees the waits (operating.md, metrics).
    const counted = (await metrics.registry.getSingleMetric('sailthru_destination_cross_lane_waits_total')?.get())?.values ?? [];
    expect(counted).toEqual([expect.objectContaining({ labels: { destination: 'main' }, value: waits })]);
    expect(waits).toBeGreaterThan(0);
  });

  it('two lanes whose events name each other, ids interleaved, deliver in id order: no deadlock, no livelock', async () => {
    // P: 1, 3, 5 (3 and 5 name Q); Q: 2, 4, 6 (each names P). Each waits for the one before it.
    const events = Array.from({ length: 6 }, (_, i): SegmentEvent => {
      const [own, other] = i % 2 === 0 ? ['lane-p', 'lane-q'] : ['lane-q', 'lane-p'];
      return { type: 'track', messageId: msg(), userId: own, ...(i > 0 ? { anonymousId: other } : {}), event: 'Viewed', properties: { n: i + 1 } };
    });
    for (const e of events) await store.append(batchOf('main', [e]));
    startWorker();
    await until(drained, 20);
    expect(await store.search({ status: 'failed' })).toMatchObject({ events: [] });
    const sent = emulator.requests({ path: '/event', method: 'POST' }).filter((r) => r.status === 200);
    expect(sent.map((r) => (r.payload as { vars?: { n?: number } }).vars?.n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(waits).toBeGreaterThan(0);
    expect(waits).toBeLessThan(40);
  });

  it('a destination paused while a lane is held back delivers nothing meanwhile, and in order once resumed', async () => {
    const first: SegmentEvent = { type: 'identify', messageId: msg(), userId: ANON, traits: { email: 'ada@example.com', seen: true } };
    await store.append(batchOf('main', [first]));
    expect((await store.claimLanes('other-worker', 10, 60_000)).map((l) => l.laneKey)).toEqual([ANON]);
    const merging = mergingIdentify({ name: 'Ada' });
    await store.append(batchOf('main', [merging]));
    worker = new DeliveryWorker({ store, deliver: registry.deliver, concurrency: 8 });
    worker.on('waiting', () => waits++);
    worker.start();
    await until(() => waits > 0);
    await store.pauseDestination('main', 'operator');
    await store.releaseLane('other-worker', { destinationId: 'main', laneKey: ANON });
    // Past the held-back lane's timer and a poll: nothing goes while paused.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(emulator.requests({ path: '/user', method: 'POST' })).toEqual([]);
    await store.resumeDestination('main');
    const t0 = Date.now();
    await until(drained, 20);
    expect(Date.now() - t0).toBeLessThan(6_000);
    const posts = emulator.requests({ path: '/user', method: 'POST' }).filter((r) => r.status === 200);
    // A's identify first, then U's, which merges A's profile into U.
    expect(posts.map((r) => (r.payload as { keys?: { extid?: string } }).keys?.extid ?? null)).toEqual([null, USER]);
    expect(emulator.state().profiles.find((p) => p.keys.extid === USER)?.vars).toMatchObject({ seen: true, name: 'Ada' });
  }, 20_000);

  it('a long wait is told at warn level after about a minute, then every five', () => {
    expect(Array.from({ length: 200 }, (_, i) => i + 1).filter(longWait)).toEqual([16, 91, 166]);
  });

  it('a lane held back comes back when the clock says it is due, though its timer fired before (a clock stepped back)', async () => {
    const first: SegmentEvent = { type: 'identify', messageId: msg(), userId: ANON, traits: { email: 'ada@example.com' } };
    await store.append(batchOf('main', [first]));
    expect((await store.claimLanes('other-worker', 10, 60_000)).map((l) => l.laneKey)).toEqual([ANON]);
    const merging = mergingIdentify({ name: 'Ada' });
    await store.append(batchOf('main', [merging]));
    // No poll to fall back on: only the held-back lane's own timer brings it back.
    worker = new DeliveryWorker({ store, deliver: registry.deliver, concurrency: 8, pollMs: 60_000, clock: wall });
    worker.on('waiting', () => {
      waits++;
      // The wall clock is stepped back once the lane is deferred: its timer (which counts real
      // time, as a timer may also fire a millisecond before Date.now() reaches it) fires before
      // the store's clock says the lane is due.
      if (waits === 1) queueMicrotask(() => (wall.offset -= 300));
    });
    worker.start();
    await until(() => waits > 0);
    await store.releaseLane('other-worker', { destinationId: 'main', laneKey: ANON });
    const t0 = Date.now();
    await until(async () => (await drained()) || Date.now() - t0 > 8_000, 20);
    expect(await eventOf(merging.messageId!)).toMatchObject({ status: 'delivered' });
  }, 20_000);

  it('an older event that ends as a dead letter releases the lanes waiting for it: no deadlock, no starvation', async () => {
    const add = added();
    await store.append(batchOf('main', [add]));
    const identify = mergingIdentify({ email: 'ada@example.com' });
    await store.append(batchOf('main', [identify]));
    // A's add never gets through: retried until its short window runs out, then dead-lettered.
    emulator.setFaults({ failRate: 1, endpoints: ['POST /purchase'] });
    startWorker(new RetryPolicy({ baseMs: 5, capMs: 40, windowMs: 400 }));
    await until(drained, 20);

    expect(await eventOf(add.messageId!)).toMatchObject({ status: 'failed' });
    expect(await eventOf(identify.messageId!)).toMatchObject({ status: 'delivered' });
    // The identify went out only once the add was settled for good.
    const lastAddTry = Math.max(...emulator.requests({ path: '/purchase', method: 'POST' }).map((r) => r.seq));
    const posts = emulator.requests({ path: '/user', method: 'POST' });
    const identifyPost = posts.find((r) => {
      const payload = r.payload as { id?: string; keys?: { extid?: string } };
      return payload.id === USER || payload.keys?.extid === USER;
    });
    expect(identifyPost).toBeDefined();
    expect(identifyPost!.seq).toBeGreaterThan(lastAddTry);
    expect(waits).toBeGreaterThan(0);
  });
});
