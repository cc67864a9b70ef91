import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { basic, postJson, startStack, waitForDrain, type Stack } from './harness.ts';

// The whole product, end to end: real Segment clients → server → SQLite lane queue → worker →
// destination → emulator. Checked on the emulator's resulting state, as a Sailthru user would.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      WEBHOOK_SECRET: 'e2e-webhook-secret',
      SAILTHRU_DEFAULT_LIST: 'Newsletter',
      SAILTHRU_REMINDER_TEMPLATE: 'cart-reminder',
      SAILTHRU_REMINDER_TIME: '20 minutes',
      SAILTHRU_SEND_TEMPLATE: 'receipt',
      RETRY_BASE_MS: '50',
    },
  });
});
afterAll(() => stack?.stop());

const profile = (extid: string) => stack.emulator.state().profiles.find((p) => p.keys.extid === extid);

describe('@segment/analytics-node pointed at the server', () => {
  it('identify, track, page, purchase and cart events reach Sailthru', async () => {
    const analytics = new Analytics({ writeKey: stack.writeKey, host: stack.service.url, flushAt: 20, flushInterval: 50 });
    analytics.identify({ userId: 'anon-visitor-1', traits: { seen: true } });
    analytics.identify({
      userId: 'user-42',
      anonymousId: 'anon-visitor-1',
      traits: { email: 'ada@example.com', name: 'Ada', address: { city: 'London' } },
    });
    analytics.track({ userId: 'user-42', event: 'Played Game', properties: { levels: [1, 2, 3], arcade: { galaxy: { coordinates: '1232.4832' } } } });
    analytics.page({ userId: 'user-42', name: 'Home', properties: { url: 'https://shop.example.com/', keywords: ['home', 'landing'] } });
    analytics.track({
      userId: 'user-42',
      event: 'Product Added',
      properties: { product_id: 'sku-1', name: 'Monopoly', price: 19.99, quantity: 2, url: 'https://shop.example.com/p/1' },
    });
    analytics.track({
      userId: 'user-42',
      event: 'Order Completed',
      properties: {
        order_id: 'order-1',
        tax: 2,
        shipping: 3,
        products: [{ product_id: 'sku-1', name: 'Monopoly', price: 19.99, quantity: 2, url: 'https://shop.example.com/p/1' }],
      },
    });
    await analytics.closeAndFlush({ timeout: 10_000 });
    await waitForDrain(stack.service);

    // identify with merge: the anonymous profile took the userId and the email.
    const user = profile('user-42');
    expect(user).toBeDefined();
    expect(user!.keys.email).toBe('ada@example.com');
    expect(user!.vars).toMatchObject({ name: 'Ada', address_city: 'London', seen: true });
    expect(Object.keys(user!.lists)).toEqual(['Newsletter']);
    expect(profile('anon-visitor-1')).toBeUndefined();

    const state = stack.emulator.state();
    expect(state.events.filter((e) => e.id === 'user-42').map((e) => [e.event, e.vars])).toEqual([
      ['Played Game', { levels_0: 1, levels_1: 2, levels_2: 3, arcade_galaxy_coordinates: '1232.4832' }],
    ]);
    expect(state.pageviews).toEqual([expect.objectContaining({ userIdValue: 'user-42', url: 'https://shop.example.com/', tags: 'home,landing' })]);

    const order = state.purchases.find((p) => p.purchase_keys?.extid === 'order-1');
    expect(order).toMatchObject({ email: 'ada@example.com', send_template: 'receipt', price: 3998 + 200 + 300 });
    expect(order!.items).toEqual([expect.objectContaining({ id: 'sku-1', qty: 2, price: 1999 })]);
    // A completed purchase clears the cart the Product Added made.
    expect(user!.cart).toBeNull();

    const cartPost = stack.emulator.requests({ path: '/purchase' }).find((r) => (r.payload as { incomplete?: number }).incomplete === 1);
    expect(cartPost?.payload).toMatchObject({ reminder_template: 'cart-reminder', reminder_time: '+20 minutes', email: 'ada@example.com' });

    // The delivery log shows each event delivered with its calls.
    const page = await stack.service.store.search({ laneKey: 'user-42', limit: 50 });
    expect(page.events.map((e) => e.status)).toEqual(page.events.map(() => 'delivered'));
    expect(page.events.every((e) => (e.payload as { context?: { library?: { name?: string } } }).context?.library?.name === '@segment/analytics-node')).toBe(true);
  });
});

describe("Segment's Webhooks destination pointed at /v1/webhook", () => {
  const url = () => `${stack.service.url}/v1/webhook`;

  it('accepts one event with X-Signature, an array with Basic auth, and a delete notification', async () => {
    const single = JSON.stringify({ type: 'identify', userId: 'hook-user', messageId: 'hook-1', traits: { email: 'hook@example.com' } });
    const sig = createHmac('sha1', 'e2e-webhook-secret').update(single).digest('hex');
    const r1 = await postJson(url(), single, { 'x-signature': sig });
    expect(r1.status).toBe(200);

    const r2 = await postJson(
      url(),
      [
        { type: 'track', userId: 'hook-user', messageId: 'hook-2', event: 'Signed Up', properties: { plan: 'pro' } },
        { type: 'track', userId: 'hook-user', messageId: 'hook-3', event: 'Upgraded' },
      ],
      basic(stack.writeKey),
    );
    expect(r2.status).toBe(200);
    await waitForDrain(stack.service);
    expect(profile('hook-user')?.keys.email).toBe('hook@example.com');
    expect(stack.emulator.state().events.filter((e) => e.id === 'hook-user').map((e) => e.event)).toEqual(['Signed Up', 'Upgraded']);

    const r3 = await postJson(url(), { type: 'delete', userId: 'hook-user', messageId: 'hook-4' }, basic(stack.writeKey));
    expect(r3.status).toBe(200);
    await waitForDrain(stack.service);
    expect(profile('hook-user')).toBeUndefined();
    expect(stack.emulator.state().deletedUsers.some((d) => d.keys.extid === 'hook-user' && d.reason === 'deleted')).toBe(true);
  });

  it('refuses a wrong signature and stores nothing from it', async () => {
    const body = JSON.stringify({ type: 'track', userId: 'forger', messageId: 'forged-1', event: 'Forged' });
    const res = await postJson(url(), body, { 'x-signature': 'f'.repeat(40) });
    expect(res.status).toBe(401);
    const found = await stack.service.store.search({ messageId: 'forged-1' });
    expect(found.events).toHaveLength(0);
  });
});
