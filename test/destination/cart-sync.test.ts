import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ reminderTemplate: 'cart-reminder', reminderTime: '2 hours' });
});
afterAll(() => h.close());
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

const MUG = { product_id: 'sku-1', name: 'Mug', price: 12.5, quantity: 1, url: 'https://shop.example/p/sku-1' };
const HAT = { product_id: 'sku-2', name: 'Hat', price: 20, quantity: 1, url: 'https://shop.example/p/sku-2' };

function cartEvent(name: string, userId: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return event({ type: 'track', userId, event: name, properties, ...extra });
}

/** The cart Sailthru holds for the profile `id` names (an extid, or an email when it has an @). */
function storedIds(id: string): Array<[string, number]> | null {
  const cart = h.emulator.state({ key: id.includes('@') ? 'email' : 'extid', id }).profiles[0]?.cart;
  return cart ? cart.items.map((i) => [i.id, i.qty]) : null;
}

describe('whole-cart sync: Cart Viewed / Checkout Started with products (SPEC.md §6)', () => {
  it('replaces the stored cart with exactly the event\'s products, in one POST, with reminders', async () => {
    await identifyUser(h.destination, 'sync-1', { email: 'sync1@example.com' });
    expect((await h.destination.deliver(cartEvent('Product Added', 'sync-1', MUG))).state).toBe('delivered');
    expect(storedIds('sync-1')).toEqual([['sku-1', 1]]);
    h.mark();

    const outcome = await h.destination.deliver(cartEvent('Cart Viewed', 'sync-1', { cart_id: 'c1', products: [HAT, { ...MUG, quantity: 3 }] }));
    expect(outcome.state, JSON.stringify(outcome)).toBe('delivered');
    const calls = h.received();
    // The email is known from the identify: no lookup at all.
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /purchase']);
    expect(calls[0]!.payload).toMatchObject({
      email: 'sync1@example.com',
      incomplete: 1,
      reminder_template: 'cart-reminder',
      reminder_time: '+2 hours',
      items: [
        { id: 'sku-2', qty: 1, price: 2000 },
        { id: 'sku-1', qty: 3, price: 1250 },
      ],
    });
    expect(storedIds('sync-1')).toEqual([['sku-2', 1], ['sku-1', 3]]);
  });

  it('takes Checkout Started too, merges a repeated product, and clears the cart with an empty products array', async () => {
    const email = { context: { traits: { email: 'sync2@example.com' } } };
    const started = await h.destination.deliver(cartEvent('Checkout Started', 'sync-2', { products: [MUG, MUG] }, email));
    expect(started.state, JSON.stringify(started)).toBe('delivered');
    expect(storedIds('sync2@example.com')).toEqual([['sku-1', 2]]);
    expect(h.received().map((c) => `${c.method} ${c.path}`)).toEqual(['POST /purchase']);

    const cleared = await h.destination.deliver(cartEvent('Cart Viewed', 'sync-2', { products: [] }, email));
    expect(cleared.state).toBe('delivered');
    const post = h.received().at(-1)!.payload as Record<string, unknown>;
    expect(post.items).toEqual([]);
    expect(post).not.toHaveProperty('reminder_template');
    expect(storedIds('sync2@example.com')).toBeNull();
  });

  it('posts under the profile\'s own email when it is known, whatever address the event carries', async () => {
    await identifyUser(h.destination, 'sync-3', { email: 'profile@example.com' });
    h.mark();
    await h.destination.deliver(cartEvent('Cart Viewed', 'sync-3', { products: [MUG] }, { context: { traits: { email: 'other@example.com' } } }));
    expect((h.received()[0]!.payload as { email: string }).email).toBe('profile@example.com');
  });

  it('looks the email up once when neither memory nor the event has it, and fails clearly without one', async () => {
    const other = h.withSettings({});
    await identifyUser(other, 'sync-4', { email: 'sync4@example.com' });
    h.mark();
    expect((await h.destination.deliver(cartEvent('Cart Viewed', 'sync-4', { products: [MUG] }))).state).toBe('delivered');
    expect(h.received().map((c) => `${c.method} ${c.path}`)).toEqual(['GET /user', 'POST /purchase']);

    const unknown = await h.destination.deliver(cartEvent('Cart Viewed', 'sync-nobody', { products: [MUG] }));
    expect(unknown.state === 'failed' && unknown.reason).toContain('Sailthru has no email for extid sync-nobody');
  });

  it('keeps the stored cart when no product can be sent, naming the dropped ones', async () => {
    const email = { context: { traits: { email: 'sync5@example.com' } } };
    await h.destination.deliver(cartEvent('Cart Viewed', 'sync-5', { products: [MUG] }, email));
    h.mark();
    const outcome = await h.destination.deliver(cartEvent('Cart Viewed', 'sync-5', { products: [{ name: 'no id' }] }, email));
    expect(outcome.state === 'failed' && outcome.reason).toContain('products[0] dropped');
    expect(h.received()).toEqual([]);
    expect(storedIds('sync5@example.com')).toEqual([['sku-1', 1]]);
  });

  it('stays a custom event without products', async () => {
    const outcome = await h.destination.deliver(cartEvent('Cart Viewed', 'sync-6', { cart_id: 'c9' }));
    expect(outcome.state).toBe('delivered');
    expect(h.received().map((c) => `${c.method} ${c.path}`)).toEqual(['POST /event']);
  });
});
