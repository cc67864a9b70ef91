import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

const PRODUCT = { product_id: 'sku-1', name: 'Mug', price: 12.5, quantity: 1, url: 'https://shop.example/p/sku-1' };

function order(properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return event({ type: 'track', userId: 'buyer-a', event: 'Order Completed', context: { traits: { email: 'buyer-a@example.com' } }, properties, ...extra });
}

async function purchasePayload(e: ReturnType<typeof order>): Promise<Record<string, unknown>> {
  const outcome = await h.destination.deliver(e);
  expect(outcome.state, JSON.stringify(outcome)).toBe('delivered');
  const posts = h.received().filter((r) => r.path === '/purchase');
  expect(posts).toHaveLength(1);
  return posts[0]!.payload as Record<string, unknown>;
}

describe('campaign revenue attribution: message_id from the sailthru_bid cookie (SPEC.md §5)', () => {
  it('sends properties.sailthru_bid as message_id, not as a var, and Sailthru records it on the purchase', async () => {
    const payload = await purchasePayload(order({ order_id: 'o-1', sailthru_bid: '11823.2378.abcdef', coupon: 'X', products: [PRODUCT] }));
    expect(payload.message_id).toBe('11823.2378.abcdef');
    expect(payload.vars).toEqual({ order_id: 'o-1', coupon: 'X' });
    expect(h.emulator.state().purchases[0]?.message_id).toBe('11823.2378.abcdef');
  });

  it('prefers integrations.Sailthru.message_id, then properties.message_id, then properties.sailthru_bid', async () => {
    const all = { order_id: 'o-2', message_id: 'from-properties', sailthru_bid: 'from-cookie', products: [PRODUCT] };
    expect((await purchasePayload(order(all, { integrations: { Sailthru: { message_id: 'from-integrations' } } }))).message_id).toBe('from-integrations');
    expect((await purchasePayload(order(all))).message_id).toBe('from-properties');
    const { message_id: _m, ...cookieOnly } = all;
    const payload = await purchasePayload(order(cookieOnly));
    expect(payload.message_id).toBe('from-cookie');
    expect(payload.vars).toEqual({ order_id: 'o-2' });
  });

  it('omits message_id when there is none, and names a value that is not text instead of sending it', async () => {
    expect(await purchasePayload(order({ order_id: 'o-3', products: [PRODUCT] }))).not.toHaveProperty('message_id');
    const outcome = await h.destination.deliver(order({ order_id: 'o-4', sailthru_bid: { bad: true }, products: [PRODUCT] }));
    expect(outcome.state).toBe('delivered');
    expect(outcome.warnings.join('\n')).toContain('properties.sailthru_bid {"bad":true} ignored');
    const payload = h.received().find((r) => r.path === '/purchase')!.payload as Record<string, unknown>;
    expect(payload).not.toHaveProperty('message_id');
    expect(payload.vars).toEqual({ order_id: 'o-4' });
  });
});
