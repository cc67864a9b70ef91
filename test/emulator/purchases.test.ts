import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, item, type Client } from './signed-request.ts';

const account = { apiKey: 'cart-key', secret: 'cart-secret' };
let emulator: RunningEmulator;
let client: Client;

beforeAll(async () => {
  emulator = await startEmulator(account);
  client = clientFor(emulator.url, account);
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const RFC2822 = /^\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/;

async function storedCart(extid: string): Promise<Record<string, unknown> | null> {
  const res = await client.get('/user', { id: extid, key: 'extid', fields: { keys: 1, purchase_incomplete: 1 } });
  expect(res.status).toBe(200);
  return res.body.purchase_incomplete as Record<string, unknown> | null;
}

describe('incomplete purchases (carts)', () => {
  it('returns the posted cart from GET /user as purchase_incomplete, images.full a plain string', async () => {
    await client.post('/user', { id: 'shopper-1', key: 'extid', keys: { email: 'shopper@example.com' } });
    const post = await client.post('/purchase', {
      email: 'shopper@example.com',
      incomplete: 1,
      items: [
        item('sku-1', {
          qty: 2,
          price: 1899,
          images: { full: { url: 'https://cdn.example/1.jpg' }, thumb: { url: 'https://cdn.example/1-t.jpg' } },
          vars: { color: 'red' },
          tags: ['toys', 'games'],
        }),
      ],
      vars: { segment_last_message_id: 'msg-1' },
      reminder_template: 'abandoned-cart',
      reminder_time: '+60 minutes',
    });
    expect(post.status).toBe(200);
    expect(post.body.purchase).toMatchObject({ qty: 2, price: 3798, incomplete: 1 });

    const cart = await storedCart('shopper-1');
    expect(cart).toMatchObject({
      qty: 2,
      price: 3798,
      vars: { segment_last_message_id: 'msg-1' },
      reminder_template: 'abandoned-cart',
      reminder_time: '+60 minutes',
      items: [
        {
          id: 'sku-1',
          qty: 2,
          title: 'Product sku-1',
          price: 1899,
          url: 'https://shop.example/p/sku-1',
          images: { full: 'https://cdn.example/1.jpg', thumb: 'https://cdn.example/1-t.jpg' },
          vars: { color: 'red' },
          tags: ['toys', 'games'],
        },
      ],
    });
    expect(cart!.time).toMatch(RFC2822);
    expect(emulator.state().counts.carts).toBe(1);
  });

  it('replaces the single stored cart on every post, and accepts images.full back as a string', async () => {
    await client.post('/user', { id: 'shopper-2', key: 'extid', keys: { email: 's2@example.com' } });
    await client.post('/purchase', { email: 's2@example.com', incomplete: 1, items: [item('a'), item('b')] });
    const fetched = (await storedCart('shopper-2'))!.items as Array<Record<string, unknown>>;
    await client.post('/purchase', { email: 's2@example.com', incomplete: 1, items: [{ ...fetched[1], images: { full: 'https://cdn.example/b.jpg' } }] });
    const cart = await storedCart('shopper-2');
    expect((cart!.items as Array<{ id: string; images?: unknown }>).map((i) => [i.id, i.images])).toEqual([['b', { full: 'https://cdn.example/b.jpg' }]]);
  });

  it('clears the cart when items is empty', async () => {
    await client.post('/user', { id: 'shopper-3', key: 'extid', keys: { email: 's3@example.com' } });
    await client.post('/purchase', { email: 's3@example.com', incomplete: 1, items: [item('a')] });
    expect(await storedCart('shopper-3')).not.toBeNull();
    const clear = await client.post('/purchase', { email: 's3@example.com', incomplete: 1, items: [] });
    expect(clear.status).toBe(200);
    expect(await storedCart('shopper-3')).toBeNull();
    expect(emulator.state().counts.carts).toBe(0);
  });

  it('creates the profile by email when it does not exist', async () => {
    await client.post('/purchase', { email: 'New@Example.com', incomplete: 1, items: [item('a')] });
    const state = emulator.state({ id: 'new@example.com' });
    expect(state.profiles[0]!.keys.email).toBe('new@example.com');
    expect(state.profiles[0]!.cart?.items).toHaveLength(1);
  });
});

describe('completed purchases', () => {
  it('appends to the purchase log with keys, date, adjustments, vars and template, and clears the cart', async () => {
    await client.post('/purchase', { email: 'buyer@example.com', incomplete: 1, items: [item('a')] });
    const res = await client.post('/purchase', {
      email: 'buyer@example.com',
      items: [item('a', { qty: 3, price: 1000 })],
      adjustments: [
        { title: 'Shipping', price: 500 },
        { title: 'Discount', price: -250 },
      ],
      date: '2024-05-01T10:00:00.000Z',
      purchase_keys: { extid: 'order-77' },
      vars: { coupon: 'MAY' },
      send_template: 'receipt',
    });
    expect(res.status).toBe(200);
    expect(res.body.purchase).toMatchObject({ qty: 3, price: 3250, time: 'Wed, 1 May 2024 10:00:00 +0000' });
    const state = emulator.state();
    expect(state.purchases).toEqual([
      expect.objectContaining({
        email: 'buyer@example.com',
        purchase_keys: { extid: 'order-77' },
        adjustments: [
          { title: 'Shipping', price: 500 },
          { title: 'Discount', price: -250 },
        ],
        vars: { coupon: 'MAY' },
        send_template: 'receipt',
        price: 3250,
      }),
    ]);
    expect(state.profiles[0]!.cart).toBeNull();
  });

  it('does not de-duplicate: the same order posted twice is two purchases', async () => {
    const order = { email: 'twice@example.com', items: [item('a')], purchase_keys: { extid: 'order-1' } };
    await client.post('/purchase', order);
    await client.post('/purchase', order);
    expect(emulator.state().purchases).toHaveLength(2);
  });

  it('answers a completed purchase without items with error 99 "No items in purchase"', async () => {
    for (const items of [[], undefined]) {
      const res = await client.post('/purchase', { email: 'none@example.com', items });
      expect(res).toMatchObject({ status: 400, body: { error: 99, errormsg: 'No items in purchase' } });
    }
    expect(emulator.state().purchases).toEqual([]);
  });

  it('rejects a price that is not integer cents, an invalid email, a missing email and a bad date', async () => {
    const price = await client.post('/purchase', { email: 'p@example.com', items: [item('a', { price: 18.99 })] });
    expect(price.status).toBe(400);
    expect(price.body).toMatchObject({ error: 99, errormsg: 'Invalid price for item a: 18.99 (must be an integer number of cents)' });
    const email = await client.post('/purchase', { email: 'nope', items: [item('a')] });
    expect(email).toMatchObject({ status: 200, body: { error: 11, errormsg: 'Invalid email: nope' } });
    const missing = await client.post('/purchase', { items: [item('a')] });
    expect(missing).toMatchObject({ status: 400, body: { error: 2, errormsg: 'Missing required parameter: email' } });
    const date = await client.post('/purchase', { email: 'p@example.com', items: [item('a')], date: 'someday' });
    expect(date).toMatchObject({ status: 400, body: { error: 18 } });
    expect(emulator.state().purchases).toEqual([]);
  });
});
