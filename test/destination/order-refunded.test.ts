import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

const MUG = { product_id: 'sku-1', name: 'Mug', price: 12.5, quantity: 2, url: 'https://shop.example/p/sku-1' };

function refund(properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return event({ type: 'track', userId: 'refund-1', event: 'Order Refunded', properties, ...extra });
}

describe('Order Refunded → POST /return (SPEC.md §5.3)', () => {
  it('returns the refunded products, each with the order id, under the email Sailthru has for the user', async () => {
    await identifyUser(h.destination, 'refund-1', { email: 'refund1@example.com' });
    h.mark();
    const outcome = await h.destination.deliver(refund({ order_id: 'o-77', products: [MUG, { sku: 'sku-2', price: '3.10', url: 'https://shop.example/p/2' }] }));
    expect(outcome.state, JSON.stringify(outcome)).toBe('delivered');
    const calls = h.received();
    // The identify just before taught it the email: no lookup.
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /return']);
    expect(calls[0]!.payload).toEqual({
      email: 'refund1@example.com',
      items: [
        { id: 'sku-1', title: 'Mug', qty: 2, price: 1250, url: 'https://shop.example/p/sku-1', order_id: 'o-77' },
        { id: 'sku-2', title: '', qty: 1, price: 310, url: 'https://shop.example/p/2', vars: { sku: 'sku-2' }, order_id: 'o-77' },
      ],
    });
    const state = h.emulator.state({ key: 'extid', id: 'refund-1' });
    expect(state.returns.map((r) => r.price)).toEqual([2810]);
  });

  it('takes the v1 name, and looks the email up when neither the event nor memory has it', async () => {
    await h.emulator.reset();
    const seed = h.withSettings({});
    await identifyUser(seed, 'refund-2', { email: 'refund2@example.com' });
    h.mark();
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'refund-2', event: 'Refunded Order', properties: { products: [MUG] } }));
    expect(outcome.state, JSON.stringify(outcome)).toBe('delivered');
    const calls = h.received();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /user', 'POST /return']);
    expect((calls[1]!.payload as { items: unknown[] }).items[0]).not.toHaveProperty('order_id');
  });

  it('turns a whole-order refund without products into one item priced at the total', async () => {
    const d = h.withSettings({ productBaseUrl: 'https://shop.example/orders/' });
    const outcome = await d.deliver(refund({ order_id: 'o-5', total: 49.99 }, { context: { traits: { email: 'r@example.com' } } }));
    expect(outcome.state, JSON.stringify(outcome)).toBe('delivered');
    expect(h.received().at(-1)!.payload).toEqual({
      email: 'r@example.com',
      items: [{ id: 'o-5', qty: 1, price: 4999, url: 'https://shop.example/orders/o-5', order_id: 'o-5' }],
    });
    const byRevenue = await h.destination.deliver(refund({ order_id: 'o-6', revenue: '10', url: 'https://shop.example/o/6' }, { traits: { email: 'r@example.com' } }));
    expect(byRevenue.state).toBe('delivered');
    expect((h.received().at(-1)!.payload as { items: unknown[] }).items).toEqual([{ id: 'o-6', qty: 1, price: 1000, url: 'https://shop.example/o/6', order_id: 'o-6' }]);
  });

  it('fails permanently, without a request, when there is nothing to return or no url or amount', async () => {
    const email = { context: { traits: { email: 'r@example.com' } } };
    const nothing = await h.destination.deliver(refund({ order_id: 'o-7' }, email));
    expect(nothing).toMatchObject({ state: 'failed' });
    expect(nothing.state === 'failed' && nothing.reason).toContain('Order Refunded needs properties.products');
    const noUrl = await h.destination.deliver(refund({ order_id: 'o-8', total: 5 }, email));
    expect(noUrl.state === 'failed' && noUrl.reason).toContain('Order o-8 has no url');
    const badTotal = await h.destination.deliver(refund({ order_id: 'o-9', total: '$5', url: 'https://shop.example/o' }, email));
    expect(badTotal.state === 'failed' && badTotal.reason).toContain('properties.total "$5" is not an amount');
    expect(h.received()).toEqual([]);
  });

  it('fails as a purchase does when Sailthru has no email for the user', async () => {
    const outcome = await h.destination.deliver(refund({ products: [MUG] }, { userId: 'nobody' }));
    expect(outcome.state === 'failed' && outcome.reason).toContain('Sailthru has no email for extid nobody');
  });
});
