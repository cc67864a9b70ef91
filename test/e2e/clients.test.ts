import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { basic, postJson, startStack, waitForDrain, type Stack } from './harness.ts';
import { startRecordingProxy } from './recording-proxy.ts';

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
    // Sent together with the merging identify: the two are in different lanes (anon-visitor-1 and
    // user-42); the merge waits for the earlier identify of its anonymousId's lane
    // (docs/decisions.md, "Lanes are per id"), so it finds the profile that one created.
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

    // Deletions come signed (deletionFromEvents: signed; docs/sailthru-setup.md 4.7).
    const deletion = JSON.stringify({ type: 'delete', userId: 'hook-user', messageId: 'hook-4' });
    const r3 = await postJson(url(), deletion, { 'x-signature': createHmac('sha1', 'e2e-webhook-secret').update(deletion).digest('hex') });
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

describe('@rudderstack/rudder-sdk-node at its defaults (gzip)', () => {
  it('its gzipped batches, labelled application/x-www-form-urlencoded, reach Sailthru', async () => {
    const proxy = await startRecordingProxy(stack.service.url);
    try {
      const client = new RudderAnalytics(stack.writeKey, { dataPlaneUrl: proxy.url, flushInterval: 50 });
      client.identify({ userId: 'rs-node-1', traits: { email: 'rs-node@example.com', company: 'Acme' } });
      client.track({ userId: 'rs-node-1', event: 'Plan Changed', properties: { plan: 'team' } });
      await client.flush();
      await waitForDrain(stack.service);

      expect(proxy.requests.length).toBeGreaterThanOrEqual(1);
      for (const sent of proxy.requests) {
        expect([sent.method, sent.url, sent.status]).toEqual(['POST', '/v1/batch', 200]);
        expect(sent.headers['content-encoding']).toBe('gzip');
        expect(sent.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      }
      type Sent = { batch: Array<{ type: string; context?: { traits?: unknown }; traits?: unknown }> };
      const sentEvents = proxy.requests.flatMap((r) => (JSON.parse(gunzipSync(r.bodyBytes).toString('utf8')) as Sent).batch);
      const identify = sentEvents.find((e) => e.type === 'identify');
      expect(identify?.context?.traits).toEqual({ email: 'rs-node@example.com', company: 'Acme' });

      const user = profile('rs-node-1');
      expect(user?.keys.email).toBe('rs-node@example.com');
      expect(user?.vars).toMatchObject({ company: 'Acme' });
      expect(stack.emulator.state().events.filter((e) => e.id === 'rs-node-1').map((e) => [e.event, e.vars])).toEqual([['Plan Changed', { plan: 'team' }]]);
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Segment's Python library (analytics-python 2.x) and RudderStack's (rudder-sdk-python 2.x) cannot
 * be installed here: their wire shape, byte for byte as their request.py builds it, over raw HTTP.
 * Both post `{"batch": [...], "sentAt"}` to `{host}/v1/batch` as application/json with Basic auth
 * (write key, empty password); RudderStack's gzips by default, Segment's only with `gzip=True`.
 * On an error both read `payload['code']` and `payload['message']`.
 */
describe('Python SDK wire shapes', () => {
  const pythonBatch = (userId: string, library: string) =>
    JSON.stringify({
      batch: [
        {
          type: 'identify',
          userId,
          traits: { email: `${userId}@example.com`, tier: 'gold' },
          context: { library: { name: library, version: '2.1.0' } },
          timestamp: '2026-03-01T10:00:00.123456+00:00',
          messageId: `${userId}-identify`,
          integrations: {},
        },
        {
          type: 'track',
          userId,
          event: 'Invoice Paid',
          properties: { amount: 12.5 },
          context: { library: { name: library, version: '2.1.0' } },
          timestamp: '2026-03-01T10:00:01.654321+00:00',
          messageId: `${userId}-track`,
          integrations: {},
        },
      ],
      sentAt: '2026-03-01T10:00:02.000000+00:00',
    });
  const pythonHeaders = (extra: Record<string, string> = {}) => ({
    'content-type': 'application/json',
    'user-agent': 'analytics-python/2.1.0',
    ...basic(stack.writeKey),
    ...extra,
  });

  it("Segment's library: plain JSON, and gzip when gzip=True", async () => {
    const plain = await fetch(`${stack.service.url}/v1/batch`, { method: 'POST', headers: pythonHeaders(), body: pythonBatch('py-seg-1', 'analytics-python') });
    expect(plain.status).toBe(200);
    const gzipped = await fetch(`${stack.service.url}/v1/batch`, {
      method: 'POST',
      headers: pythonHeaders({ 'content-encoding': 'gzip' }),
      body: gzipSync(pythonBatch('py-seg-2', 'analytics-python')),
    });
    expect(gzipped.status).toBe(200);
    await waitForDrain(stack.service);
    for (const id of ['py-seg-1', 'py-seg-2']) {
      expect(profile(id)?.keys.email).toBe(`${id}@example.com`);
      expect(stack.emulator.state().events.filter((e) => e.id === id).map((e) => e.event)).toEqual(['Invoice Paid']);
    }
  });

  it("RudderStack's library at its default (gzip) reaches Sailthru", async () => {
    const response = await fetch(`${stack.service.url}/v1/batch`, {
      method: 'POST',
      headers: pythonHeaders({ 'content-encoding': 'gzip', 'user-agent': 'analytics-python/2.1.0' }),
      body: gzipSync(pythonBatch('py-rs-1', 'analytics-python')),
    });
    expect(response.status).toBe(200);
    await waitForDrain(stack.service);
    expect(profile('py-rs-1')?.vars).toMatchObject({ tier: 'gold' });
  });

  it('error answers carry code and message, which both libraries read', async () => {
    const cases: Array<[Record<string, string>, string | Buffer, number, string]> = [
      [pythonHeaders({ authorization: `Basic ${Buffer.from('wrong-key:').toString('base64')}` }), pythonBatch('py-x', 'analytics-python'), 401, 'INGEST_UNKNOWN_WRITE_KEY'],
      [pythonHeaders({ 'content-encoding': 'gzip' }), Buffer.from('not gzip at all'), 400, 'INGEST_INVALID_COMPRESSION'],
      [pythonHeaders(), '{"batch": [', 400, 'INGEST_INVALID_JSON'],
      [pythonHeaders({ 'content-encoding': 'gzip' }), gzipSync(Buffer.alloc(600 * 1024, 0x20)), 413, 'INGEST_BODY_TOO_LARGE'],
    ];
    for (const [headers, body, status, code] of cases) {
      const response = await fetch(`${stack.service.url}/v1/batch`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
      expect(response.status, code).toBe(status);
      const payload = (await response.json()) as Record<string, unknown>;
      // What request.py does: APIError(res.status_code, payload['code'], payload['message']).
      expect(payload.code).toBe(code);
      expect(typeof payload.message).toBe('string');
      expect(payload.message).toBe(payload.error);
    }
  });
});
