import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCalls } from '../../src/index.ts';
import { SailthruClient } from '../../src/sailthru/client.ts';
import { startHarness, type Harness } from '../destination/harness.ts';

// planCalls is a dry run: it must name exactly the calls a real delivery makes. Each event is
// planned, then delivered to the emulator over HTTP, and the two lists compared.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ defaultListName: 'Everyone', reminderTemplate: 'cart-reminder', reminderTime: '20 minutes' });
});
afterAll(async () => h?.close());

const at = '2024-05-01T10:00:00.000Z';
const EVENTS: Array<[string, Record<string, unknown>]> = [
  ['identify', { type: 'identify', userId: 'plan-1', traits: { email: 'ada@example.com', plan: 'pro', address: { city: 'Paris' } }, timestamp: at }],
  ['track', { type: 'track', userId: 'plan-1', event: 'Signed Up', properties: { source: 'docs', count: 2 }, timestamp: at }],
  ['page', { type: 'page', userId: 'plan-1', name: 'Home', properties: { url: 'https://shop.example.com/' }, timestamp: at }],
  ['Product Added', { type: 'track', userId: 'plan-1', event: 'Product Added', properties: { product_id: 'sku-1', name: 'Mug', price: 12.5, quantity: 2, url: 'https://shop.example.com/mug' }, timestamp: at }],
  ['Order Completed', { type: 'track', userId: 'plan-1', event: 'Order Completed', properties: { order_id: 'o-1', total: 25, products: [{ product_id: 'sku-1', name: 'Mug', price: 12.5, quantity: 2, url: 'https://shop.example.com/mug' }] }, timestamp: at }],
];

describe('planCalls', () => {
  it('names the calls a real delivery makes, in order, for each kind of event', async () => {
    const client = new SailthruClient({ apiKey: h.settings.apiKey, sharedSecret: h.settings.sharedSecret, apiUrl: h.emulator.url });
    try {
      for (const [name, raw] of EVENTS) {
        // What Sailthru knows of the user just before this event, as the destination would read it.
        const known = await client.getUser({ id: 'plan-1', key: 'extid', fields: { keys: 1, vars: 1, purchase_incomplete: 1 } });
        // The client's messageId is kept by ingest (and sent to Sailthru in vars).
        const sent = { messageId: `plan-${name}`, ...raw };
        const plan = await planCalls(sent, h.settings, known.ok ? { profile: known.body } : {});
        h.mark();
        // planCalls plans as a destination just started: one with no memory of earlier events
        // (a cached email saves a GET /user) delivers each event here.
        const outcome = await h.withSettings({}).deliver(sent as never);
        expect(outcome.state, name).toBe('delivered');
        expect(plan.state, name).toBe('delivered');
        expect(plan.calls.length, name).toBeGreaterThan(0);
        expect(plan.calls.map((c) => ({ method: c.method, path: c.endpoint, payload: c.payload })), name).toEqual(h.received());
      }
    } finally {
      await client.close();
    }
  });

  it('plans a user Sailthru has never seen as "not found", with the reason a delivery would give', async () => {
    // Order Completed with no email anywhere needs the profile's email: without one it fails.
    const plan = await planCalls({ type: 'track', userId: 'nobody', event: 'Order Completed', properties: { order_id: 'o-2', products: [{ product_id: 'a', price: 1, url: 'https://shop.example.com/a' }] } }, { apiKey: 'k', sharedSecret: 's' });
    expect(plan.state).toBe('failed');
    expect(plan.reason).toMatch(/email/);
    expect(plan.calls.map((c) => `${c.method} ${c.endpoint}`)).toEqual(['GET /user']);
  });

  it('refuses what ingest would refuse, and settings that are not valid, naming the field', async () => {
    const refused = await planCalls({ type: 'track', userId: 'u', event: 42 }, {});
    expect(refused).toMatchObject({ state: 'refused', calls: [] });
    expect(refused.reason).toMatch(/event/);
    await expect(planCalls({ type: 'identify', userId: 'u' }, { optoutValue: 'sometimes' })).rejects.toThrow(/optoutValue/);
  });

  it('sends nothing', async () => {
    h.mark();
    await planCalls({ type: 'identify', userId: 'silent', traits: { email: 's@example.com' } }, h.settings);
    expect(h.received()).toEqual([]);
  });
});
