import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.ts';
import { RetryPolicy } from '../../src/delivery/retry-policy.ts';
import type { EventStore, StoredEvent } from '../../src/delivery/store.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { createDestination } from '../../src/destination/index.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { batchOf, emulatorSettings, until } from './helpers.ts';
import { bothStores, type StoreKit } from './store-kits.ts';

/**
 * Issue 19 item 2: a lane's queued identifies, or cart changes, of one user go to Sailthru with
 * one call; every event is settled with that call in its log. Real emulator over HTTP, both stores.
 */
type Kit = StoreKit;

const STORES = bothStores('coalesce-');

let seq = 0;
const id = (prefix: string) => `${prefix}-${process.pid}-${++seq}`;
const identify = (userId: string, traits: Record<string, unknown>): SegmentEvent => ({ type: 'identify', messageId: id('idf'), userId, traits });
const track = (userId: string, event: string, properties: Record<string, unknown> = {}): SegmentEvent => ({
  type: 'track',
  messageId: id('trk'),
  userId,
  event,
  properties,
});
const product = (sku: string) => ({ product_id: sku, name: `Product ${sku}`, price: 10, quantity: 1, url: `https://shop.example/${sku}` });

describe.each(STORES)('coalescing a backlog (%s)', (_name, open) => {
  let emulator: RunningEmulator;
  let kit: Kit;
  let registry: DestinationRegistry;
  let worker: DeliveryWorker;
  let settings: DestinationSettings;

  beforeEach(async () => {
    emulator = await startEmulator({ port: 0 });
    kit = await open();
    settings = emulatorSettings(emulator);
    await kit.store.createDestination({ id: 'main', name: 'Main', settings });
    registry = new DestinationRegistry({ directory: kit.store, identities: kit.store, sentProfiles: kit.store, cartMarkers: kit.store });
    worker = new DeliveryWorker({
      store: kit.store,
      deliver: registry.deliver,
      deliverGroup: registry.deliverGroup,
      pollMs: 20,
      retryPolicy: new RetryPolicy({ baseMs: 5, capMs: 20 }),
    });
  });

  afterEach(async () => {
    await worker.stop();
    await registry.close();
    await kit.close();
    await emulator.close();
  });

  /** Queues the events (nothing delivers yet: a backlog), then starts the worker and waits for the lane to empty. */
  async function deliverBacklog(events: SegmentEvent[]): Promise<StoredEvent[]> {
    await kit.store.append(batchOf('main', events));
    worker.start();
    await until(async () => (await kit.store.search({ destinationId: 'main', status: ['pending', 'retrying'] })).events.length === 0, 20);
    const all = (await kit.store.search({ destinationId: 'main', limit: 500 })).events;
    return [...all].sort((a, b) => a.id - b.id);
  }

  const attemptsOf = async (e: StoredEvent) => (await kit.store.getEvent(e.id))!.attempts;

  it('5 identifies, a track, 3 identifies of one user: 2 POST /user and 1 POST /event, in order, vars merged later-wins', async () => {
    const user = id('u');
    const first = [1, 2, 3, 4, 5].map((n) => identify(user, { email: `${user}@example.com`, step: n, [`k${n}`]: n }));
    const between = track(user, 'Viewed Thing', { n: 6 });
    const last = [7, 8, 9].map((n) => identify(user, { step: n, [`k${n}`]: n, plan: n === 8 ? 'gold' : undefined }));
    const stored = await deliverBacklog([...first, between, ...last]);

    const calls = emulator.requests().filter((r) => r.path === '/user' || r.path === '/event');
    expect(calls.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /user 200', 'POST /event 200', 'POST /user 200']);
    const [firstPost, , lastPost] = calls.map((r) => r.payload as { vars?: Record<string, unknown>; keys?: Record<string, unknown> });
    expect(firstPost!.vars).toEqual({ step: 5, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
    expect(firstPost!.keys).toEqual({ email: `${user}@example.com` });
    expect(lastPost!.vars).toEqual({ step: 9, k7: 7, k8: 8, k9: 9, plan: 'gold' });

    expect(stored.map((e) => e.status)).toEqual(Array(9).fill('delivered'));
    const groups = [stored.slice(0, 5), stored.slice(6, 9)];
    for (const group of groups) {
      const messageIds = group.map((e) => e.messageId!);
      for (const [i, e] of group.entries()) {
        const attempts = await attemptsOf(e);
        expect(attempts).toHaveLength(1);
        // The group's one call is in every event's log, with which events it was shared.
        expect(attempts[0]!.calls.map((c) => `${c.method} ${c.endpoint} ${c.status}`)).toEqual(['POST /user 200']);
        const note = attempts[0]!.warnings.find((w) => w.startsWith('coalesced:'));
        expect(note).toContain(messageIds.join(', '));
        expect(note).toContain(`${i + 1} of ${group.length}`);
      }
    }
    expect((await attemptsOf(stored[5]!))[0]!.warnings.some((w) => w.startsWith('coalesced'))).toBe(false);
  });

  it('Product Added a, Product Added b, Product Removed a: one GET /user and one POST /purchase holding only b', async () => {
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` })]);
    const changes = [track(user, 'Product Added', product('a')), track(user, 'Product Added', product('b')), track(user, 'Product Removed', { product_id: 'a' })];
    const stored = (await deliverBacklog(changes)).slice(1);

    expect(emulator.requests({ path: '/user', method: 'GET' })).toHaveLength(1);
    const purchases = emulator.requests({ path: '/purchase', method: 'POST' });
    expect(purchases).toHaveLength(1);
    const payload = purchases[0]!.payload as { incomplete: number; items: Array<{ id: string; vars?: Record<string, unknown> }>; vars?: Record<string, unknown> };
    expect(payload.incomplete).toBe(1);
    expect(payload.items.map((i) => i.id)).toEqual(['b']);
    // The exactly-once marker is the last change's messageId.
    expect(JSON.stringify(payload)).toContain(changes[2]!.messageId);
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered']);
    for (const e of stored) {
      expect((await attemptsOf(e))[0]!.calls.map((c) => `${c.method} ${c.endpoint}`)).toEqual(['GET /user', 'POST /purchase']);
    }
  });

  it('a removal of a product not in the cart, inside a group: skipped with its reason, its note not saying delivered', async () => {
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` })]);
    const stored = (await deliverBacklog([track(user, 'Product Added', product('a')), track(user, 'Product Removed', { product_id: 'zz' }), track(user, 'Product Added', product('b'))])).slice(1);
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'skipped', 'delivered']);
    expect(stored[1]!.outcome?.reason).toMatch(/not in the user's cart/);
    const note = (await attemptsOf(stored[1]!))[0]!.warnings.find((w) => w.startsWith('coalesced:'));
    expect(note).toContain('2 of 3');
    expect(note).not.toMatch(/delivered/);
  });

  it("an identify group: each event's own warnings on that event only", async () => {
    const user = id('u');
    const stored = await deliverBacklog([identify(user, { email: `${user}@example.com`, a: 1 }), identify(user, { email: 'not-an-email', b: 2 })]);
    expect(emulator.requests({ path: '/user', method: 'POST' })).toHaveLength(1);
    const [first, second] = await Promise.all(stored.map(async (e) => (await attemptsOf(e))[0]!.warnings.join(' | ')));
    expect(second).toMatch(/not-an-email.*not a plausible email address/);
    expect(first).not.toMatch(/not-an-email/);
  });

  it("the group's POST /user answered 500, then 200: every event pending until then, delivered once", async () => {
    const user = id('u');
    emulator.setFaults({ failRate: 1, failStatus: 500, endpoints: ['POST /user'], seed: 1 });
    await kit.store.append(batchOf('main', [1, 2, 3].map((n) => identify(user, { step: n }))));
    worker.start();
    await until(() => emulator.requests({ path: '/user', method: 'POST' }).some((r) => r.status === 500), 10);
    // While the call fails, the group's events are all still queued, in order.
    const unsettled = await kit.store.search({ destinationId: 'main', status: ['pending', 'retrying'] });
    expect(unsettled.events).toHaveLength(3);
    emulator.setFaults({});
    await until(async () => (await kit.store.search({ destinationId: 'main', status: ['pending', 'retrying'] })).events.length === 0, 20);

    const ok = emulator.requests({ path: '/user', method: 'POST' }).filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect((ok[0]!.payload as { vars: unknown }).vars).toEqual({ step: 3 });
    const stored = (await kit.store.search({ destinationId: 'main' })).events;
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it("a cart POST that landed but answered 500 is not posted again: the fetched marker names the group's last change", async () => {
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` })]);
    emulator.setFaults({ applyThenFail: { 'POST /purchase': 1 } });
    const stored = (await deliverBacklog([track(user, 'Product Added', product('a')), track(user, 'Product Added', product('b'))])).slice(1);

    const purchases = emulator.requests({ path: '/purchase', method: 'POST' });
    expect(purchases.map((r) => r.status)).toEqual([500]);
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered']);
    const profile = emulator.state().profiles.find((p) => p.keys.email === `${user}@example.com`);
    expect((profile?.cart?.items ?? []).map((i) => i.id)).toEqual(['a', 'b']);
  });

  it('a re-delivery whose stored cart already names the 2nd change of 3 applies only the 3rd', async () => {
    const user = id('u');
    const changes = [track(user, 'Product Added', product('a')), track(user, 'Product Added', product('b')), track(user, 'Product Added', product('c'))];
    // Before a crash: the first two were posted (one at a time here) but never settled.
    const direct = createDestination(settings);
    try {
      expect((await direct.deliver(identify(user, { email: `${user}@example.com` }))).state).toBe('delivered');
      expect((await direct.deliver(changes[0]!)).state).toBe('delivered');
      expect((await direct.deliver(changes[1]!)).state).toBe('delivered');
    } finally {
      await direct.close();
    }
    const postsBefore = emulator.requests({ path: '/purchase', method: 'POST' }).length;
    const stored = await deliverBacklog(changes);

    const posts = emulator.requests({ path: '/purchase', method: 'POST' }).slice(postsBefore);
    expect(posts).toHaveLength(1);
    const items = (posts[0]!.payload as { items: Array<{ id: string; qty: number }> }).items;
    // a and b once each (not added again), c added.
    expect(items.map((i) => [i.id, i.qty])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const warnings = (await attemptsOf(stored[0]!))[0]!.warnings.join(' ');
    expect(warnings).toContain(`already carries the changes up to messageId ${changes[1]!.messageId}`);
  });

  it('the unchanged skip applies to the merged payload: a backlog that ends where the profile is costs no call', async () => {
    const user = id('u');
    await deliverBacklog([identify(user, { plan: 'gold', points: 1 })]);
    const stored = (await deliverBacklog([identify(user, { plan: 'silver' }), identify(user, { plan: 'gold' })])).slice(1);
    // Merged {plan: gold} differs from the first POST ({plan: gold, points: 1}): sent.
    expect(emulator.requests({ path: '/user', method: 'POST' })).toHaveLength(2);
    const again = (await deliverBacklog([identify(user, { plan: 'bronze' }), identify(user, { plan: 'gold' })])).slice(3);
    expect(emulator.requests({ path: '/user', method: 'POST' })).toHaveLength(2);
    expect(again.map((e) => e.status)).toEqual(['skipped', 'skipped']);
    expect(again.map((e) => e.outcome?.reason)).toEqual([expect.stringMatching(/^unchanged since /), expect.stringMatching(/^unchanged since /)]);
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered']);
  });

  it("a permanent failure of the group's call fails every event of the group with its reason", async () => {
    // An account that knows its templates refuses another (Sailthru's error 14): permanent.
    await emulator.close();
    emulator = await startEmulator({ port: 0, templates: ['abandoned-cart'] });
    settings = emulatorSettings(emulator);
    await kit.store.updateDestination('main', { settings: { ...settings, reminderTemplate: 'no-such-template', reminderTime: '2 hours' } });
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` })]);
    const stored = (await deliverBacklog([track(user, 'Product Added', product('a')), track(user, 'Product Added', product('b'))])).slice(1);

    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(1);
    expect(stored.map((e) => e.status)).toEqual(['failed', 'failed']);
    for (const e of stored) expect(e.lastError).toMatch(/POST \/purchase.*Unknown template: no-such-template/);
  });

  it('a worker that dies after its cart group POST landed, before settling: the next worker posts nothing again', async () => {
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` })]);
    await worker.stop();
    const changes = [track(user, 'Product Added', product('a')), track(user, 'Product Added', product('b')), track(user, 'Product Removed', { product_id: 'a' })];
    await kit.store.append(batchOf('main', changes));
    await dieAfterGroupPost();
    await drain(new DeliveryWorker({ store: kit.store, deliver: registry.deliver, deliverGroup: registry.deliverGroup, pollMs: 20, leaseMs: 300, workerId: 'next' }));
    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(1);
    const profile = emulator.state().profiles.find((p) => p.keys.email === `${user}@example.com`);
    expect((profile?.cart?.items ?? []).map((i) => [i.id, i.qty])).toEqual([['b', 1]]);
    const stored = (await kit.store.search({ destinationId: 'main', limit: 10 })).events.filter((e) => changes.some((c) => c.messageId === e.messageId));
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  /**
   * A worker that posts the cart group at the head of the queue, then dies: it never settles and
   * renews no lease (never stopped: stop would wait for it), so its lease lapses.
   */
  async function dieAfterGroupPost(): Promise<void> {
    let landed = false;
    const dead = new DeliveryWorker({
      store: new Proxy(kit.store, {
        get: (target, key) =>
          key === 'renewLeases' || (key === 'claimLanes' && landed) ? async () => [] : Reflect.get(target, key, target),
      }) as EventStore,
      deliver: registry.deliver,
      deliverGroup: async (destinationId, heads) => {
        await registry.deliverGroup(destinationId, heads);
        landed = true;
        return new Promise(() => {});
      },
      pollMs: 20,
      leaseMs: 300,
      workerId: 'dead',
    });
    dead.start();
    await until(() => landed, 10);
  }

  /** Runs `next` until nothing of the destination is pending or retrying, then stops it (and closes `registry`). */
  async function drain(next: DeliveryWorker, registry?: DestinationRegistry): Promise<void> {
    next.start();
    try {
      await until(async () => (await kit.store.search({ destinationId: 'main', status: ['pending', 'retrying'] })).events.length === 0, 20);
    } finally {
      await next.stop();
      await registry?.close();
    }
  }

  /** The store, counting the cart-marker lookups made through it. */
  function countingLookups(): { store: EventStore; lookups: Array<string | null> } {
    const lookups: Array<string | null> = [];
    const store = new Proxy(kit.store, {
      get: (target, key) =>
        key === 'pendingAfterInLane'
          ? async (...args: Parameters<EventStore['pendingAfterInLane']>) => {
              const found = await target.pendingAfterInLane(...args);
              lookups.push(found);
              return found;
            }
          : Reflect.get(target, key, target),
    }) as EventStore;
    return { store, lookups };
  }

  const quantities = (user: string) =>
    (emulator.state().profiles.find((p) => p.keys.email === `${user}@example.com`)?.cart?.items ?? []).map((i) => [i.id, i.qty]).sort();

  // docs/decisions.md, "Coalescing a backlog": the group re-formed after a crash is shorter than
  // the one whose POST landed, so the cart's marker names an event queued after it.
  it.each([
    ['the window shrinks to 2', { window: 2 }, {}, true],
    ['coalesceBacklog is turned off', {}, { coalesceBacklog: 'off' }, true],
    // Sailthru does not document a cart's purchase-level vars as returned: the items' markers tell.
    ['the window shrinks to 2 (no purchase vars returned)', { window: 2 }, {}, false],
  ] as const)('a worker dies after its 4-change cart group POST landed, then %s: nothing is applied twice', async (_case, workerOptions, settingsPatch, cartVarsReturned) => {
    if (!cartVarsReturned) {
      await emulator.close();
      emulator = await startEmulator({ port: 0, cartVarsReturned });
      settings = emulatorSettings(emulator);
      await kit.store.updateDestination('main', { settings });
    }
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` })]);
    await worker.stop();
    const changes = [
      track(user, 'Product Added', { ...product('a'), quantity: 1 }),
      track(user, 'Product Added', { ...product('a'), quantity: 2 }),
      track(user, 'Product Added', product('b')),
      track(user, 'Product Added', { ...product('a'), quantity: 1 }),
    ];
    await kit.store.append(batchOf('main', changes));
    await dieAfterGroupPost();
    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(1);
    expect(quantities(user)).toEqual([
      ['a', 4],
      ['b', 1],
    ]);

    await kit.store.updateDestination('main', { settings: { ...settings, ...settingsPatch } });
    const counting = countingLookups();
    // A fresh process: what the dead one remembered is gone.
    const fresh = new DestinationRegistry({ directory: kit.store, identities: kit.store, sentProfiles: kit.store, cartMarkers: counting.store });
    await drain(new DeliveryWorker({ store: kit.store, deliver: fresh.deliver, deliverGroup: fresh.deliverGroup, pollMs: 20, leaseMs: 300, workerId: 'next', ...workerOptions }), fresh);
    // What one-at-a-time delivery leaves: a 1+2+1, b 1; and no POST after the one that landed.
    expect(quantities(user)).toEqual([
      ['a', 4],
      ['b', 1],
    ]);
    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(1);
    const stored = (await kit.store.search({ destinationId: 'main', limit: 10 })).events.filter((e) => changes.some((c) => c.messageId === e.messageId));
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    // The cart's markers name the 3rd (on item b) and the 4th (purchase vars, item a): either is queued after.
    const later = counting.lookups.find((m) => m !== null);
    expect([changes[2]!.messageId, changes[3]!.messageId]).toContain(later);
    const first = stored.find((e) => e.messageId === changes[0]!.messageId)!;
    const warnings = (await attemptsOf(first)).at(-1)!.warnings.join(' ');
    expect(warnings).toContain(`the stored cart carries messageId ${later}, a change queued after`);
  });

  it('SETTLE_DELAY_MS, coalescing off: a worker that dies mid-run after two POSTs of one product, before settling them, has nothing applied twice', async () => {
    await kit.store.updateDestination('main', { settings: { ...settings, coalesceBacklog: 'off' } });
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` })]);
    await worker.stop();
    const changes = [track(user, 'Product Added', product('a')), track(user, 'Product Added', product('a'))];
    await kit.store.append(batchOf('main', changes));
    let delivered = 0;
    const old = new DestinationRegistry({ directory: kit.store, identities: kit.store, sentProfiles: kit.store, cartMarkers: kit.store });
    // A run settles its events together (settleDelayMs): this worker delivers both, one at a time, and dies before settling.
    const dead = new DeliveryWorker({
      store: new Proxy(kit.store, {
        get: (target, key) =>
          key === 'renewLeases' || (key === 'claimLanes' && delivered >= 2) ? async () => [] : key === 'settleLane' || key === 'settle' ? () => new Promise(() => {}) : Reflect.get(target, key, target),
      }) as EventStore,
      deliver: async (destinationId, head) => {
        const outcome = await old.deliver(destinationId, head);
        delivered++;
        return outcome;
      },
      pollMs: 20,
      leaseMs: 300,
      settleDelayMs: 60_000,
      workerId: 'dead',
    });
    dead.start();
    await until(() => delivered >= 2, 10);
    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(2);
    const fresh = new DestinationRegistry({ directory: kit.store, identities: kit.store, sentProfiles: kit.store, cartMarkers: kit.store });
    await drain(new DeliveryWorker({ store: kit.store, deliver: fresh.deliver, deliverGroup: fresh.deliverGroup, pollMs: 20, leaseMs: 300, workerId: 'next' }), fresh);
    expect(quantities(user)).toEqual([['a', 2]]);
    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(2);
  });

  it("a cart whose marker names an earlier, settled change of the lane: the group is applied (no false skip); a marker this process posted is not looked up", async () => {
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` }), track(user, 'Product Added', product('a'))]);
    await worker.stop();
    const counting = countingLookups();
    // Another process takes the lane: it did not post the cart's marker itself, so it asks the store.
    const other = new DestinationRegistry({ directory: kit.store, identities: kit.store, sentProfiles: kit.store, cartMarkers: counting.store });
    // Window 2: the second group's cart carries the first group's marker, which this process posted itself.
    const backlog = [track(user, 'Product Added', product('a')), track(user, 'Product Added', product('b')), track(user, 'Product Added', product('c')), track(user, 'Product Added', product('a'))];
    await kit.store.append(batchOf('main', backlog));
    await drain(new DeliveryWorker({ store: kit.store, deliver: other.deliver, deliverGroup: other.deliverGroup, pollMs: 20, workerId: 'other', window: 2 }), other);
    expect(counting.lookups).toEqual([null]);
    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(3);
    expect(quantities(user)).toEqual([
      ['a', 3],
      ['b', 1],
      ['c', 1],
    ]);
  });

  it("a store that cannot place the cart's marker: the group retries, nothing posted, then goes through", async () => {
    const user = id('u');
    await deliverBacklog([identify(user, { email: `${user}@example.com` }), track(user, 'Product Added', product('a'))]);
    await worker.stop();
    let failures = 1;
    const flaky = new Proxy(kit.store, {
      get: (target, key) =>
        key === 'pendingAfterInLane' && failures > 0
          ? async () => {
              failures--;
              throw new Error('connection reset');
            }
          : Reflect.get(target, key, target),
    }) as EventStore;
    const other = new DestinationRegistry({ directory: kit.store, identities: kit.store, sentProfiles: kit.store, cartMarkers: flaky });
    const backlog = [track(user, 'Product Added', product('a')), track(user, 'Product Added', product('b'))];
    await kit.store.append(batchOf('main', backlog));
    await drain(new DeliveryWorker({ store: kit.store, deliver: other.deliver, deliverGroup: other.deliverGroup, pollMs: 20, workerId: 'other', retryPolicy: new RetryPolicy({ baseMs: 5, capMs: 20 }) }), other);
    expect(emulator.requests({ path: '/purchase', method: 'POST' })).toHaveLength(2);
    expect(quantities(user)).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    const stored = (await kit.store.search({ destinationId: 'main', limit: 10 })).events.filter((e) => backlog.some((c) => c.messageId === e.messageId));
    expect(stored.map((e) => e.status)).toEqual(['delivered', 'delivered']);
    const head = stored.find((e) => e.messageId === backlog[0]!.messageId)!;
    expect((await attemptsOf(head))[0]).toMatchObject({ state: 'retry', error: expect.stringContaining("could not look up the cart's marker in the queue: connection reset") });
  });

  it('coalesceBacklog off: one call per event', async () => {
    await kit.store.updateDestination('main', { settings: { ...settings, coalesceBacklog: 'off' } });
    const user = id('u');
    await deliverBacklog([1, 2, 3].map((n) => identify(user, { step: n })));
    expect(emulator.requests({ path: '/user', method: 'POST' })).toHaveLength(3);
  });
});
