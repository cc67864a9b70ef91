import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { itemFromProduct } from '../../src/destination/products.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

/** SPEC.md §5.1 (bad quantities and prices are never guessed at), §5.2, §6 re-add, §3 reserved names. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ productBaseUrl: 'https://shop.example/p' });
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  h.emulator.reset();
  await identifyUser(h.destination, 'buyer', { email: 'buyer@example.com' });
  h.mark();
});

function order(products: unknown[], more: Record<string, unknown> = {}): SegmentEvent {
  return event({ type: 'track', userId: 'buyer', event: 'Order Completed', properties: { order_id: 'o-1', products, ...more } });
}
function cartEvent(name: string, properties: Record<string, unknown>): SegmentEvent {
  return event({ type: 'track', userId: 'buyer', event: name, properties });
}
function purchases() {
  return h.emulator.state({}).purchases;
}

describe('quantity and price (SPEC.md §5.1)', () => {
  it.each([
    ['quantity', 0],
    ['quantity', -2],
    ['quantity', 0.4],
    ['quantity', '2 pcs'],
    ['price', '$19.99'],
    ['price', '1,299.00'],
    ['price', -5],
    ['price', 'NaN'],
    ['price', '0x10'],
  ])('%s %j: the product is dropped with a warning naming it and the field; the rest is sent', async (name, value) => {
    const outcome = await h.destination.deliver(
      order([
        { product_id: 'good', price: 10, quantity: 1 },
        { product_id: 'bad', price: 5, quantity: 1, [name]: value },
      ]),
    );
    expect(outcome.state).toBe('delivered');
    expect(outcome.warnings.some((w) => w.includes('products[1] (product bad) dropped') && w.includes(`products[1].${name}`))).toBe(true);
    expect(purchases().map((p) => p.items.map((i) => [i.id, i.qty, i.price]))).toEqual([[['good', 1, 1000]]]);
  });

  it('no item left: fails permanently naming every dropped product, without a call', async () => {
    const outcome = await h.destination.deliver(
      order([
        { product_id: 'a', price: '$19.99' },
        { product_id: 'b', price: 1, quantity: 0 },
      ]),
    );
    expect(outcome.state).toBe('failed');
    if (outcome.state !== 'failed') return;
    expect(outcome.reason).toContain('products[0] (product a): products[0].price "$19.99"');
    expect(outcome.reason).toContain('products[1] (product b): products[1].quantity 0');
    expect(h.received()).toEqual([]);
  });

  it('a positive non-integer quantity is rounded half up, with a warning; plain numeric text is a number', () => {
    const mapped = itemFromProduct({ id: 'p', quantity: 2.5, price: ' 19.99 ', url: 'https://x' }, { label: 'p' });
    expect(mapped).toMatchObject({ ok: true, item: { qty: 3, price: 1999 }, warnings: ['p.quantity 2.5 rounded to 3'] });
    expect(itemFromProduct({ id: 'p', quantity: '1.5', price: '.5', url: 'https://x' }, { label: 'p' })).toMatchObject({ ok: true, item: { qty: 2, price: 50 } });
    expect(itemFromProduct({ id: 'p', quantity: 0.5, price: 1, url: 'https://x' }, { label: 'p' })).toMatchObject({ ok: true, item: { qty: 1 } });
  });

  it('Product Added with an invalid quantity or price fails naming the field, with no call', async () => {
    for (const properties of [
      { product_id: 'shoe', price: 10, quantity: 0 },
      { product_id: 'shoe', price: '1,299.00' },
    ]) {
      const outcome = await h.destination.deliver(cartEvent('Product Added', properties));
      expect(outcome.state).toBe('failed');
      if (outcome.state !== 'failed') return;
      expect(outcome.reason).toMatch(/^Product shoe: properties\.(quantity 0|price "1,299\.00") is not/);
    }
    expect(h.received()).toEqual([]);
  });

  it('Product Removed with an invalid quantity fails naming the field, with no call', async () => {
    const outcome = await h.destination.deliver(cartEvent('Product Removed', { product_id: 'shoe', quantity: -2 }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'Product shoe: properties.quantity -2 is not a quantity of at least 1' });
    expect(h.received()).toEqual([]);
  });
});

describe('adjustments keep tax, shipping and discount (SPEC.md §5.2)', () => {
  it('with adjustments given, tax, shipping and discount go to the order vars', async () => {
    const outcome = await h.destination.deliver(
      order([{ product_id: 'a', price: 10 }], { tax: 1.5, shipping: 4, discount: 2, adjustments: [{ title: 'Gift wrap', price: 3 }] }),
    );
    expect(outcome.state).toBe('delivered');
    const payload = h.received().at(-1)?.payload as Record<string, unknown>;
    expect(payload.adjustments).toEqual([{ title: 'Gift wrap', price: 300 }]);
    expect(payload.vars).toEqual({ order_id: 'o-1', tax: 1.5, shipping: 4, discount: 2 });
  });
});

describe('re-adding a cart item (SPEC.md §6)', () => {
  it('takes the event title, price, url, images and vars and adds the quantity', async () => {
    await h.destination.deliver(cartEvent('Product Added', { product_id: 'shoe', name: 'Shoe', price: 50, image_url: 'https://img/1', colour: 'red' }));
    const outcome = await h.destination.deliver(
      cartEvent('Product Added', { product_id: 'shoe', name: 'Shoe (sale)', price: 40, url: 'https://shop.example/sale/shoe', colour: 'blue', quantity: 2 }),
    );
    expect(outcome.state).toBe('delivered');
    const item = h.emulator.state({ key: 'extid', id: 'buyer' }).profiles[0]?.cart?.items[0];
    expect(item).toMatchObject({ id: 'shoe', qty: 3, title: 'Shoe (sale)', price: 4000, url: 'https://shop.example/sale/shoe' });
    expect(item?.vars).toMatchObject({ colour: 'blue' });
    // The event has no image: the one the cart had stays.
    expect(JSON.stringify(item?.images)).toContain('https://img/1');
  });
});

describe('reserved event names (SPEC.md §3)', () => {
  it.each(['Purchase', ' send ', 'CLICK', 'Daily'])('%j fails permanently without a request', async (name) => {
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'buyer', event: name }));
    expect(outcome.state).toBe('failed');
    if (outcome.state !== 'failed') return;
    expect(outcome.reason).toContain('reserved');
    expect(h.received()).toEqual([]);
  });

  it('the emulator refuses the same names the same way', async () => {
    const { SailthruClient } = await import('../../src/sailthru/client.ts');
    const client = new SailthruClient({ apiKey: h.settings.apiKey, sharedSecret: h.settings.sharedSecret, apiUrl: h.emulator.url, trackUrl: h.emulator.url });
    try {
      for (const name of ['Purchase', ' send ', 'CLICK']) {
        const result = await client.postEvent({ id: 'buyer', key: 'extid', event: name });
        expect(result.ok).toBe(false);
      }
      expect((await client.postEvent({ id: 'buyer', key: 'extid', event: 'Purchased' })).ok).toBe(true);
    } finally {
      await client.close();
    }
  });
});
