import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

const PRODUCT = {
  product_id: '507f1f77bcf86cd799439011',
  sku: '45790-32',
  name: 'Monopoly: 3rd Edition',
  price: 19,
  quantity: 2,
  category: 'Games',
  url: 'https://www.example.com/product/path',
  image_url: 'https://www.example.com/product/path.jpg',
  image_url_thumb: 'https://www.example.com/product/path/thumb.jpg',
  tags: ['board', 'family'],
};

function order(properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return event({ type: 'track', userId: 'buyer-1', event: 'Order Completed', properties, ...extra });
}

describe('Order Completed → POST /purchase (SPEC.md §5)', () => {
  it('sends the full purchase: items in cents, adjustments, date, purchase_keys, user_agent, vars', async () => {
    const outcome = await h.destination.deliver(
      order(
        {
          order_id: 'ord-1',
          total: 41.5,
          revenue: 38,
          currency: 'USD',
          coupon: 'MAYDEALS',
          tax: 2,
          shipping: 3,
          discount: 2.5,
          email: 'buyer@example.com',
          products: [PRODUCT, { sku: 'G-32', name: 'Uno', price: '18.99', url: 'https://www.example.com/uno', position: 3 }],
        },
        { context: { userAgent: 'Mozilla/5.0 (test)' } },
      ),
    );
    expect(outcome.state).toBe('delivered');
    expect(h.received()).toEqual([
      {
        method: 'POST',
        path: '/purchase',
        payload: {
          email: 'buyer@example.com',
          incomplete: 0,
          items: [
            {
              id: '507f1f77bcf86cd799439011',
              title: 'Monopoly: 3rd Edition',
              qty: 2,
              price: 1900,
              url: 'https://www.example.com/product/path',
              tags: ['board', 'family'],
              images: {
                full: { url: 'https://www.example.com/product/path.jpg' },
                thumb: { url: 'https://www.example.com/product/path/thumb.jpg' },
              },
              vars: { sku: '45790-32', category: 'Games' },
            },
            { id: 'G-32', title: 'Uno', qty: 1, price: 1899, url: 'https://www.example.com/uno', vars: { sku: 'G-32', position: 3 } },
          ],
          adjustments: [
            { title: 'tax', price: 200 },
            { title: 'shipping', price: 300 },
            { title: 'discount', price: -250 },
          ],
          date: '2024-05-01T10:00:00.000Z',
          purchase_keys: { extid: 'ord-1' },
          user_agent: 'Mozilla/5.0 (test)',
          vars: { order_id: 'ord-1', total: 41.5, revenue: 38, currency: 'USD', coupon: 'MAYDEALS', email: 'buyer@example.com' },
        },
      },
    ]);
    const [purchase] = h.emulator.state().purchases;
    expect(purchase).toMatchObject({ email: 'buyer@example.com', qty: 3, price: 2 * 1900 + 1899 + 200 + 300 - 250 });
    expect(purchase?.purchase_keys).toEqual({ extid: 'ord-1' });
    expect(purchase?.items[0]?.images).toEqual({
      full: 'https://www.example.com/product/path.jpg',
      thumb: 'https://www.example.com/product/path/thumb.jpg',
    });
  });

  it('accepts the e-commerce v1 name "Completed Order"', async () => {
    const outcome = await h.destination.deliver(
      event({ type: 'track', userId: 'buyer-1', event: 'Completed Order', properties: { email: 'b@example.com', products: [PRODUCT] } }),
    );
    expect(outcome.state).toBe('delivered');
    expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /purchase']);
  });

  it('sends properties.adjustments as given, in cents, and keeps tax/shipping/discount in the vars (SPEC.md §5.2)', async () => {
    await h.destination.deliver(
      order({
        email: 'b@example.com',
        tax: 5,
        adjustments: [
          { title: 'Gift wrap', price: 4.99 },
          { title: 'Loyalty', price: -10 },
        ],
        products: [PRODUCT],
      }),
    );
    const payload = h.received()[0]?.payload as Record<string, unknown>;
    expect(payload.adjustments).toEqual([
      { title: 'Gift wrap', price: 499 },
      { title: 'Loyalty', price: -1000 },
    ]);
    expect(payload.vars).toEqual({ email: 'b@example.com', tax: 5 });
  });

  it('sends each of tax, shipping, discount only when non-zero, and no reminder fields', async () => {
    const d = h.withSettings({ reminderTemplate: 'cart-reminder', reminderTime: '60 minutes' });
    await d.deliver(order({ email: 'b@example.com', tax: 0, shipping: 4, discount: 0, products: [PRODUCT] }));
    const payload = h.received()[0]?.payload as Record<string, unknown>;
    expect(payload.adjustments).toEqual([{ title: 'shipping', price: 400 }]);
    expect(payload).not.toHaveProperty('reminder_template');
    expect(payload).not.toHaveProperty('reminder_time');
  });

  it('sends send_template from the setting, or from integrations.Sailthru (camelCase or snake_case)', async () => {
    const d = h.withSettings({ sendTemplate: 'receipt' });
    await d.deliver(order({ email: 'b@example.com', products: [PRODUCT] }));
    await d.deliver(order({ email: 'b@example.com', products: [PRODUCT] }, { integrations: { Sailthru: { sendTemplate: 'vip-receipt' } } }));
    await d.deliver(order({ email: 'b@example.com', products: [PRODUCT] }, { integrations: { Sailthru: { send_template: 'snake-receipt' } } }));
    expect(h.received().map((r) => (r.payload as { send_template?: string }).send_template)).toEqual([
      'receipt',
      'vip-receipt',
      'snake-receipt',
    ]);
    expect(h.emulator.state().purchases.map((p) => p.send_template)).toEqual(['receipt', 'vip-receipt', 'snake-receipt']);
  });

  describe('item url fallbacks (§5.1)', () => {
    it('uses context.page.url when the product has no url', async () => {
      await h.destination.deliver(
        order({ email: 'b@example.com', products: [{ id: 'p1', price: 1 }] }, { context: { page: { url: 'https://shop.example/p1' } } }),
      );
      expect((h.received()[0]?.payload as { items: unknown[] }).items[0]).toMatchObject({ id: 'p1', url: 'https://shop.example/p1' });
    });

    it('uses productBaseUrl + "/" + id last', async () => {
      const d = h.withSettings({ productBaseUrl: 'https://shop.example/products/' });
      await d.deliver(order({ email: 'b@example.com', products: [{ id: 'p 2', price: 1 }] }));
      expect((h.received()[0]?.payload as { items: unknown[] }).items[0]).toMatchObject({ url: 'https://shop.example/products/p%202' });
    });

    it('fails naming the product when no url can be found, without a request', async () => {
      const outcome = await h.destination.deliver(order({ email: 'b@example.com', products: [PRODUCT, { sku: 'no-url', price: 1 }] }));
      expect(outcome.state).toBe('failed');
      if (outcome.state === 'failed') expect(outcome.reason).toContain('Product no-url (products[1]) has no url');
      expect(h.received()).toEqual([]);
    });
  });

  it('drops products without product_id, id or sku (with a warning), and fails "No items in purchase" when none is left', async () => {
    const partly = await h.destination.deliver(order({ email: 'b@example.com', products: [{ name: 'nameless' }, PRODUCT] }));
    expect(partly.state).toBe('delivered');
    expect(partly.warnings).toContain('products[0] dropped: it has no product_id, id or sku');
    expect((h.received()[0]?.payload as { items: unknown[] }).items).toHaveLength(1);

    for (const properties of [{ email: 'b@example.com' }, { email: 'b@example.com', products: [{ name: 'nameless' }] }]) {
      const outcome = await h.destination.deliver(order(properties));
      expect(outcome.state).toBe('failed');
      if (outcome.state === 'failed') expect(outcome.reason).toMatch(/^No items in purchase/);
    }
    expect(h.received()).toEqual([]);
  });

  describe('email resolution (§0, §5)', () => {
    it('looks the email up by extid when the event has none, then caches it: a repeat buyer costs one call', async () => {
      await identifyUser(h.destination, 'buyer-2', { email: 'two@example.com' });
      // A fresh destination has an empty cache, as a restarted worker would.
      const d = h.withSettings({});
      h.mark();
      const first = await d.deliver(event({ type: 'track', userId: 'buyer-2', event: 'Order Completed', properties: { products: [PRODUCT] } }));
      const second = await d.deliver(event({ type: 'track', userId: 'buyer-2', event: 'Order Completed', properties: { products: [PRODUCT] } }));
      expect(first.state).toBe('delivered');
      expect(second.state).toBe('delivered');
      expect(h.received().map((r) => [r.method, r.path, r.payload && (r.payload as { email?: string }).email])).toEqual([
        ['GET', '/user', undefined],
        ['POST', '/purchase', 'two@example.com'],
        ['POST', '/purchase', 'two@example.com'],
      ]);
      expect(h.emulator.requests({ method: 'GET' })[0]?.payload).toEqual({ id: 'buyer-2', key: 'extid', fields: { keys: 1 } });
      expect(h.emulator.state({ key: 'extid', id: 'buyer-2' }).profiles[0]?.purchaseCount).toBe(2);
    });

    it('expires cached emails after the TTL', async () => {
      let now = Date.parse('2024-05-01T10:00:00Z');
      await identifyUser(h.destination, 'buyer-3', { email: 'three@example.com' });
      const d = h.withSettings({}, { emailCacheTtlMs: 60_000, now: () => now });
      h.mark();
      const buy = () => d.deliver(event({ type: 'track', userId: 'buyer-3', event: 'Order Completed', properties: { products: [PRODUCT] } }));
      await buy();
      now += 30_000;
      await buy();
      now += 60_000;
      await buy();
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user', 'POST /purchase', 'POST /purchase', 'GET /user', 'POST /purchase']);
    });

    it('prefers context.traits.email on the event over a lookup', async () => {
      await h.destination.deliver(order({ products: [PRODUCT] }, { context: { traits: { email: 'ctx@example.com' } } }));
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /purchase']);
    });

    it('fails with the actionable message when Sailthru has no such user', async () => {
      const outcome = await h.destination.deliver(
        event({ type: 'track', userId: 'stranger', event: 'Order Completed', properties: { products: [PRODUCT] } }),
      );
      expect(outcome).toMatchObject({
        state: 'failed',
        reason: 'Sailthru has no email for extid stranger; send identify with traits.email first, or context.traits.email on the event',
      });
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user']);
      expect(h.emulator.state().purchases).toEqual([]);
    });

    it('fails the same way when the profile exists without an email', async () => {
      await identifyUser(h.destination, 'no-email');
      h.mark();
      const outcome = await h.destination.deliver(
        event({ type: 'track', userId: 'no-email', event: 'Order Completed', properties: { products: [PRODUCT] } }),
      );
      expect(outcome).toMatchObject({ state: 'failed' });
      if (outcome.state === 'failed') expect(outcome.reason).toContain('Sailthru has no email for extid no-email');
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user']);
    });
  });
});
