import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

/** SPEC.md §6: the cart is read from and posted under one address, the profile's. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ productBaseUrl: 'https://shop.example/p' });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

function cartEvent(name: string, userId: string, productId: string, email: string): SegmentEvent {
  return event({ type: 'track', userId, event: name, properties: { product_id: productId, price: 10 }, context: { traits: { email } } });
}
function postedItems(): string[][] {
  return h
    .received()
    .filter((r) => r.path === '/purchase')
    .map((r) => ((r.payload as { items: Array<{ id: string }> }).items ?? []).map((i) => i.id));
}

describe('a cart is never split across two profiles (SPEC.md §6)', () => {
  it('profile without email: the event email is attached first, then the cart builds up under it', async () => {
    await identifyUser(h.destination, 'ne');
    h.mark();
    const first = await h.destination.deliver(cartEvent('Product Added', 'ne', 'a', 'ne@example.com'));
    expect(first.state).toBe('delivered');
    const firstCalls = h.received();
    expect(firstCalls.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user', 'POST /user', 'POST /purchase']);
    expect(firstCalls[1]?.payload).toEqual({ id: 'ne', key: 'extid', keys: { email: 'ne@example.com' }, keysconflict: 'merge' });

    expect((await h.destination.deliver(cartEvent('Product Added', 'ne', 'b', 'ne@example.com'))).state).toBe('delivered');
    expect(postedItems()).toEqual([['a', 'b']]);
    const removal = await h.destination.deliver(cartEvent('Product Removed', 'ne', 'a', 'ne@example.com'));
    expect(removal.state).toBe('delivered');
    expect(postedItems()).toEqual([['b']]);
    // One profile holds userId, email and cart.
    const profiles = h.emulator.state({}).profiles;
    expect(profiles).toHaveLength(1);
    expect(profiles[0]?.keys).toMatchObject({ extid: 'ne', email: 'ne@example.com' });
    expect(profiles[0]?.cart?.items.map((i) => i.id)).toEqual(['b']);
  });

  it('profile says old@, event says new@: the cart stays with old@, with a warning', async () => {
    await identifyUser(h.destination, 'mover', { email: 'old@example.com' });
    h.mark();
    const first = await h.destination.deliver(cartEvent('Product Added', 'mover', 'a', 'new@example.com'));
    expect(first.warnings.some((w) => w.includes('new@example.com') && w.includes('old@example.com'))).toBe(true);
    await h.destination.deliver(cartEvent('Product Added', 'mover', 'b', 'new@example.com'));
    const removal = await h.destination.deliver(cartEvent('Product Removed', 'mover', 'a', 'new@example.com'));
    expect(removal.state).toBe('delivered');
    const purchases = h.received().filter((r) => r.path === '/purchase');
    expect(purchases.map((r) => (r.payload as { email: string }).email)).toEqual(['old@example.com', 'old@example.com', 'old@example.com']);
    expect(purchases.map((r) => (r.payload as { items: Array<{ id: string }> }).items.map((i) => i.id))).toEqual([['a'], ['a', 'b'], ['b']]);
    expect(h.emulator.state({ key: 'email', id: 'new@example.com' }).profiles).toEqual([]);
  });

  it('no profile yet: the event email creates it with the userId, so the next event finds the cart', async () => {
    expect((await h.destination.deliver(cartEvent('Product Added', 'fresh', 'a', 'fresh@example.com'))).state).toBe('delivered');
    expect((await h.destination.deliver(cartEvent('Product Added', 'fresh', 'b', 'fresh@example.com'))).state).toBe('delivered');
    expect(h.emulator.state({ key: 'extid', id: 'fresh' }).profiles[0]?.cart?.items.map((i) => i.id)).toEqual(['a', 'b']);
  });

  it('the remembered cart (one process) follows the same address', async () => {
    const d = h.withSettings({}, { rememberCarts: true });
    await identifyUser(d, 'mem', { email: 'mem@example.com' });
    await d.deliver(cartEvent('Product Added', 'mem', 'a', 'other@example.com'));
    h.mark();
    await d.deliver(cartEvent('Product Added', 'mem', 'b', 'other@example.com'));
    const calls = h.received();
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /purchase']);
    expect(calls[0]?.payload).toMatchObject({ email: 'mem@example.com', items: [{ id: 'a' }, { id: 'b' }] });
  });
});
