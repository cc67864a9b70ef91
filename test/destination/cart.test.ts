import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  h.emulator.reset();
  await identifyUser(h.destination, 'shopper', { email: 'shopper@example.com' });
  h.mark();
});

const SHOE = { product_id: 'shoe-1', name: 'Red Shoe', price: 49.99, url: 'https://shop.example/shoe-1', image_url: 'https://img.example/shoe.jpg', size: 42 };
const HAT = { product_id: 'hat-1', name: 'Hat', price: 15, quantity: 2, url: 'https://shop.example/hat-1' };

function added(properties: Record<string, unknown>, extra: Partial<SegmentEvent> = {}): SegmentEvent {
  return event({ type: 'track', userId: 'shopper', event: 'Product Added', properties, ...extra });
}
function removed(properties: Record<string, unknown>, extra: Partial<SegmentEvent> = {}): SegmentEvent {
  return event({ type: 'track', userId: 'shopper', event: 'Product Removed', properties, ...extra });
}
function cart() {
  return h.emulator.state({ key: 'extid', id: 'shopper' }).profiles[0]?.cart ?? null;
}
function cartItems() {
  return (cart()?.items ?? []).map((i) => [i.id, i.qty]);
}

describe('Product Added / Product Removed → cart (SPEC.md §6)', () => {
  it('makes one GET for email and cart, then posts the whole cart with incomplete: 1 and the change marker', async () => {
    const e = added(SHOE);
    const outcome = await h.destination.deliver(e);
    expect(outcome.state).toBe('delivered');
    expect(h.received()).toEqual([
      { method: 'GET', path: '/user', payload: { id: 'shopper', key: 'extid', fields: { keys: 1, purchase_incomplete: 1 } } },
      {
        method: 'POST',
        path: '/purchase',
        payload: {
          email: 'shopper@example.com',
          incomplete: 1,
          items: [
            {
              id: 'shoe-1',
              title: 'Red Shoe',
              qty: 1,
              price: 4999,
              url: 'https://shop.example/shoe-1',
              images: { full: { url: 'https://img.example/shoe.jpg' } },
              // The marker rides on the touched item too (SPEC.md §6).
              vars: { size: 42, segment_last_message_id: e.messageId },
            },
          ],
          vars: { segment_last_message_id: e.messageId },
        },
      },
    ]);
    expect(cart()).toMatchObject({ qty: 1, price: 4999, vars: { segment_last_message_id: e.messageId } });
  });

  it('appends a new product, and adds quantity to one already in the cart; fetched images are re-sent as {full: {url}}', async () => {
    await h.destination.deliver(added(SHOE));
    await h.destination.deliver(added(HAT));
    const again = added({ ...SHOE, quantity: 2 });
    await h.destination.deliver(again);
    expect(cartItems()).toEqual([
      ['shoe-1', 3],
      ['hat-1', 2],
    ]);
    const posts = h.received().filter((r) => r.path === '/purchase');
    const last = posts[2]?.payload as { items: Array<Record<string, unknown>> };
    expect(last.items[0]).toEqual({
      id: 'shoe-1',
      title: 'Red Shoe',
      qty: 3,
      price: 4999,
      url: 'https://shop.example/shoe-1',
      images: { full: { url: 'https://img.example/shoe.jpg' } },
      vars: { size: 42, segment_last_message_id: again.messageId },
    });
    expect(last.items[1]).toMatchObject({ id: 'hat-1', qty: 2, price: 1500 });
  });

  it('accepts the v1 names "Added Product" and "Removed Product"', async () => {
    await h.destination.deliver(event({ type: 'track', userId: 'shopper', event: 'Added Product', properties: HAT }));
    await h.destination.deliver(event({ type: 'track', userId: 'shopper', event: 'Removed Product', properties: { product_id: 'hat-1' } }));
    expect(cartItems()).toEqual([['hat-1', 1]]);
  });

  it('removes quantity, drops the item at zero, and posts items: [] to clear the cart', async () => {
    await h.destination.deliver(added(SHOE));
    await h.destination.deliver(added(HAT));
    h.mark();
    await h.destination.deliver(removed({ product_id: 'hat-1' }));
    expect(cartItems()).toEqual([
      ['shoe-1', 1],
      ['hat-1', 1],
    ]);
    await h.destination.deliver(removed({ product_id: 'hat-1', quantity: 5 }));
    expect(cartItems()).toEqual([['shoe-1', 1]]);
    const e = removed({ product_id: 'shoe-1' });
    const outcome = await h.destination.deliver(e);
    expect(outcome.state).toBe('delivered');
    const posts = h.received().filter((r) => r.path === '/purchase');
    expect(posts[2]?.payload).toEqual({
      email: 'shopper@example.com',
      incomplete: 1,
      items: [],
      vars: { segment_last_message_id: e.messageId },
    });
    expect(cart()).toBeNull();
  });

  it('fails with the seed text and no POST when the fetched cart is empty', async () => {
    const outcome = await h.destination.deliver(removed({ product_id: 'shoe-1' }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'Nothing to remove from Incomplete Cart for this user.' });
    expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user']);
  });

  it('skips without a POST when the product is not in the cart', async () => {
    await h.destination.deliver(added(SHOE));
    h.mark();
    const outcome = await h.destination.deliver(removed({ product_id: 'not-there' }));
    expect(outcome.state).toBe('skipped');
    expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user']);
    expect(cartItems()).toEqual([['shoe-1', 1]]);
  });

  it('requires userId', async () => {
    const outcome = await h.destination.deliver(event({ type: 'track', anonymousId: 'anon', event: 'Product Added', properties: SHOE }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'Product Added/Removed requires userId', calls: [] });
    expect(h.received()).toEqual([]);
  });

  it('fails as in §5 when Sailthru has no such user and the event carries no email', async () => {
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'nobody', event: 'Product Added', properties: SHOE }));
    expect(outcome).toMatchObject({
      state: 'failed',
      reason: 'Sailthru has no email for extid nobody; send identify with traits.email first, or context.traits.email on the event',
    });
    expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user']);
  });

  it('starts an empty cart with the event\'s email when Sailthru has no profile for the userId, attaching it to the userId first', async () => {
    const outcome = await h.destination.deliver(
      event({ type: 'track', userId: 'new-shopper', event: 'Product Added', properties: HAT, context: { traits: { email: 'new@example.com' } } }),
    );
    expect(outcome.state).toBe('delivered');
    expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user', 'POST /user', 'POST /purchase']);
    const profile = h.emulator.state({ key: 'extid', id: 'new-shopper' }).profiles[0];
    expect(profile?.cart?.items.map((i) => [i.id, i.qty])).toEqual([['hat-1', 2]]);
  });

  it('treats a stored cart older than cartExpiryHours as empty', async () => {
    await h.destination.deliver(added(SHOE));
    const later = Date.now() + 3 * 3_600_000;
    const d = h.withSettings({ cartExpiryHours: 2 }, { now: () => later });
    h.mark();
    const outcome = await d.deliver(added(HAT));
    expect(outcome.state).toBe('delivered');
    expect(outcome.warnings).toContain('the stored cart is older than 2 hours and was treated as empty');
    expect(cartItems()).toEqual([['hat-1', 2]]);

    const fresh = h.withSettings({ cartExpiryHours: 2 });
    await fresh.deliver(added(SHOE));
    expect(cartItems()).toEqual([
      ['hat-1', 2],
      ['shoe-1', 1],
    ]);
  });

  describe('reminders', () => {
    it('sends template and time together, with exactly one leading +', async () => {
      const d = h.withSettings({ reminderTemplate: 'abandoned-cart', reminderTime: '20 minutes' });
      await d.deliver(added(SHOE));
      await d.deliver(added(HAT, { integrations: { Sailthru: { reminder_template: 'snake-tpl', reminder_time: '+2 hours' } } }));
      await d.deliver(added(HAT, { integrations: { Sailthru: { reminderTemplate: 'camel-tpl', reminderTime: '++1 day' } } }));
      const posts = h.received().filter((r) => r.path === '/purchase').map((r) => r.payload as Record<string, unknown>);
      expect(posts.map((p) => [p.reminder_template, p.reminder_time])).toEqual([
        ['abandoned-cart', '+20 minutes'],
        ['snake-tpl', '+2 hours'],
        ['camel-tpl', '+1 day'],
      ]);
      expect(cart()).toMatchObject({ reminder_template: 'camel-tpl', reminder_time: '+1 day' });
    });

    it('sends neither when only one resolves, and records a warning', async () => {
      const d = h.withSettings({ reminderTemplate: 'abandoned-cart' });
      const outcome = await d.deliver(added(SHOE));
      expect(outcome.state).toBe('delivered');
      expect(outcome.warnings).toContain('reminderTemplate is set but reminderTime is not; no reminder sent');
      const post = h.received().find((r) => r.path === '/purchase')?.payload as Record<string, unknown>;
      expect(post).not.toHaveProperty('reminder_template');
      expect(post).not.toHaveProperty('reminder_time');
    });
  });

  describe('exactly once', () => {
    it('a retried Product Added whose POST already landed does not change the cart twice', async () => {
      await h.destination.deliver(added(SHOE));
      h.emulator.setFaults({ applyThenFail: { 'POST /purchase': 1 } });
      const e = added({ ...SHOE, quantity: 2 });

      const first = await h.destination.deliver(e);
      expect(first.state).toBe('retry');
      expect(cartItems()).toEqual([['shoe-1', 3]]);
      expect(h.emulator.requests({ path: '/purchase' }).at(-1)?.fault).toBe('apply-then-500');

      const again = await h.destination.deliver(e);
      expect(again.state).toBe('delivered');
      expect(again.calls.map((c) => `${c.method} ${c.endpoint}`)).toEqual(['GET /user']);
      expect(cartItems()).toEqual([['shoe-1', 3]]);
    });

    it('also when the connection dropped after the change was applied', async () => {
      h.emulator.setFaults({ applyThenFail: { 'POST /purchase': { count: 1, mode: 'drop' } } });
      const e = added(HAT);
      expect((await h.destination.deliver(e)).state).toBe('retry');
      expect((await h.destination.deliver(e)).state).toBe('delivered');
      expect(cartItems()).toEqual([['hat-1', 2]]);
      // The one POST is the dropped one; the retry found the change in the cart and sent none.
      expect(h.emulator.requests({ path: '/purchase', method: 'POST' }).map((r) => r.fault)).toEqual(['apply-then-drop']);
    });

    it('a retried Product Removed that emptied the cart is not dead-lettered as "Nothing to remove"', async () => {
      await h.destination.deliver(added(SHOE));
      h.emulator.setFaults({ applyThenFail: { 'POST /purchase': 1 } });
      const e = removed({ product_id: 'shoe-1' });
      expect((await h.destination.deliver(e)).state).toBe('retry');
      expect(cart()).toBeNull();
      const again = await h.destination.deliver(e);
      expect(again.state).toBe('delivered');
      expect(again.calls.map((c) => `${c.method} ${c.endpoint}`)).toEqual(['GET /user']);
    });

    it('a different event for the same product still applies', async () => {
      await h.destination.deliver(added(SHOE));
      await h.destination.deliver(added(SHOE));
      expect(cartItems()).toEqual([['shoe-1', 2]]);
    });
  });
});

describe('remembered carts, where one process delivers every event (decided beyond SPEC.md §6)', () => {
  const ORDER = { order_id: 'o-1', products: [{ product_id: 'shoe-1', name: 'Red Shoe', price: 49.99, url: 'https://shop.example/shoe-1' }] };
  const remembering = (now?: () => number) => h.withSettings({}, { rememberCarts: true, ...(now ? { now } : {}) });
  const callsOf = (outcome: { calls: Array<{ method: string; endpoint: string }> }) => outcome.calls.map((c) => `${c.method} ${c.endpoint}`);

  it('fetches the cart once, then posts each change on what it posted last, ending where fetching every time ends', async () => {
    const d = remembering();
    expect(callsOf(await d.deliver(added(SHOE)))).toEqual(['GET /user', 'POST /purchase']);
    const hat = added(HAT);
    expect(callsOf(await d.deliver(hat))).toEqual(['POST /purchase']);
    expect(cartItems()).toEqual([
      ['shoe-1', 1],
      ['hat-1', 2],
    ]);
    const posted = h.received().at(-1)?.payload as { items: Array<{ id: string; images?: unknown }>; vars: unknown };
    expect(posted.items[0]?.images).toEqual({ full: { url: 'https://img.example/shoe.jpg' } });
    expect(posted.vars).toEqual({ segment_last_message_id: hat.messageId });

    expect(callsOf(await d.deliver(removed({ product_id: 'shoe-1' })))).toEqual(['POST /purchase']);
    expect(callsOf(await d.deliver(removed({ product_id: 'hat-1', quantity: 2 })))).toEqual(['POST /purchase']);
    expect(cart()).toBeNull();
    const nothing = await d.deliver(removed({ product_id: 'hat-1' }));
    expect(nothing).toMatchObject({ state: 'failed', reason: 'Nothing to remove from Incomplete Cart for this user.' });
    expect(callsOf(nothing)).toEqual([]);
  });

  it('knows the cart empty after the user completes a purchase; forgets it when the order names only the email', async () => {
    const d = remembering();
    await d.deliver(added(SHOE));
    await d.deliver(event({ type: 'track', userId: 'shopper', event: 'Order Completed', properties: ORDER }));
    expect(cart()).toBeNull();
    // Sailthru emptied the cart it was posted under: nothing to fetch (issue 19).
    expect(callsOf(await d.deliver(added(HAT)))).toEqual(['POST /purchase']);
    expect(cartItems()).toEqual([['hat-1', 2]]);

    await d.deliver(
      event({ type: 'track', anonymousId: 'guest-9', event: 'Order Completed', properties: ORDER, context: { traits: { email: 'Shopper@Example.com' } } }),
    );
    expect(cart()).toBeNull();
    expect(callsOf(await d.deliver(added(SHOE)))).toEqual(['GET /user', 'POST /purchase']);
    expect(cartItems()).toEqual([['shoe-1', 1]]);
  });

  it('fetches again after an identify that moves the cart, not after one that keeps its email; an event naming another email keeps to the profile\'s cart (SPEC.md §6)', async () => {
    const d = remembering();
    await d.deliver(added(SHOE));
    await d.deliver(event({ type: 'identify', userId: 'shopper', traits: { email: 'Shopper@example.com', plan: 'gold' } }));
    // The cart's own email (any case), no merge: the identify cannot have moved the cart (issue 19).
    expect(callsOf(await d.deliver(added(HAT)))).toEqual(['POST /purchase']);
    const other = await d.deliver(added(SHOE, { context: { traits: { email: 'gift@example.com' } } }));
    expect(callsOf(other)).toEqual(['POST /purchase']);
    expect(other.calls[0]?.payload).toMatchObject({ email: 'shopper@example.com' });
    await d.deliver(event({ type: 'identify', userId: 'shopper', traits: { email: 'shopper.new@example.com' } }));
    expect(callsOf(await d.deliver(added(HAT)))).toEqual(['GET /user', 'POST /purchase']);
  });

  it('after a POST whose answer was lost it fetches, and the change marker keeps the change from applying twice', async () => {
    const d = remembering();
    await d.deliver(added(SHOE));
    h.emulator.setFaults({ applyThenFail: { 'POST /purchase': 1 } });
    const e = added(HAT);
    expect((await d.deliver(e)).state).toBe('retry');
    const again = await d.deliver(e);
    expect(again.state).toBe('delivered');
    expect(callsOf(again)).toEqual(['GET /user']);
    expect(cartItems()).toEqual([
      ['shoe-1', 1],
      ['hat-1', 2],
    ]);
  });

  it('trusts a remembered cart for 15 minutes, and applies cartExpiryHours to it as to a fetched one', async () => {
    let t = Date.now();
    const d = remembering(() => t);
    await d.deliver(added(SHOE));
    t += 16 * 60_000;
    expect(callsOf(await d.deliver(added(HAT)))).toEqual(['GET /user', 'POST /purchase']);

    let u = Date.now();
    const expiring = h.withSettings({ cartExpiryHours: 0.1 }, { rememberCarts: true, now: () => u });
    await expiring.deliver(added(SHOE));
    u += 7 * 60_000;
    const outcome = await expiring.deliver(added(HAT));
    expect(callsOf(outcome)).toEqual(['POST /purchase']);
    expect(outcome.warnings).toContain('the stored cart is older than 0.1 hours and was treated as empty');
    expect(cartItems()).toEqual([['hat-1', 2]]);
  });

  it('is off unless asked for: every cart event fetches', async () => {
    await h.destination.deliver(added(SHOE));
    expect(callsOf(await h.destination.deliver(added(HAT)))).toEqual(['GET /user', 'POST /purchase']);
  });
});
