import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDestination, type Destination } from '../../src/destination/index.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { SailthruClient } from '../../src/sailthru/client.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { CREDENTIALS, event, identifyUser } from './harness.ts';

/**
 * SPEC.md §6, exactly-once carts against a Sailthru that returns item vars but not the cart's
 * purchase-level vars (what Sailthru documents): the marker on the touched item is what tells a
 * retry that its change already landed.
 */
let emulator: RunningEmulator;
let destination: Destination;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, ...CREDENTIALS, cartVarsReturned: false });
  destination = createDestination({
    apiKey: CREDENTIALS.apiKey,
    sharedSecret: CREDENTIALS.secret,
    optoutValue: 'none',
    deletionFromEvents: 'signed',
    apiUrl: emulator.url,
    trackUrl: emulator.url,
    productBaseUrl: 'https://shop.example/p',
    // Its seed identifies repeat; skipping them is tested in test/delivery/unchanged-identify.test.ts.
    unchangedIdentifyHours: 0,
  });
});
afterAll(async () => {
  await destination.close();
  await emulator.close();
});
beforeEach(async () => {
  emulator.reset();
  await identifyUser(destination, 'shopper', { email: 'shopper@example.com' });
});

const change = (name: string, properties: Record<string, unknown>): SegmentEvent => event({ type: 'track', userId: 'shopper', event: name, properties });
const items = () => (emulator.state({ key: 'extid', id: 'shopper' }).profiles[0]?.cart?.items ?? []).map((i) => [i.id, i.qty]);

describe('the exactly-once marker in item vars (SPEC.md §6)', () => {
  it('the emulator leaves purchase-level vars out of GET /user when told to; item vars stay', async () => {
    const e = change('Product Added', { product_id: 'a', price: 1 });
    await destination.deliver(e);
    expect(emulator.state({ key: 'extid', id: 'shopper' }).profiles[0]?.cart?.vars).toEqual({ segment_last_message_id: e.messageId });
    const client = new SailthruClient({ apiKey: CREDENTIALS.apiKey, sharedSecret: CREDENTIALS.secret, apiUrl: emulator.url, trackUrl: emulator.url });
    try {
      const user = await client.getUser({ id: 'shopper', key: 'extid', fields: { keys: 1, purchase_incomplete: 1 } });
      expect(user.ok).toBe(true);
      const cart = (user.ok ? user.body : {}) as { purchase_incomplete?: { vars?: unknown; items: Array<{ vars?: unknown }> } };
      expect(cart.purchase_incomplete?.vars).toBeUndefined();
      expect(cart.purchase_incomplete?.items[0]?.vars).toEqual({ segment_last_message_id: e.messageId });
    } finally {
      await client.close();
    }
  });

  it('a retried Product Added whose POST landed is not applied twice', async () => {
    await destination.deliver(change('Product Added', { product_id: 'a', price: 1 }));
    emulator.setFaults({ applyThenFail: { 'POST /purchase': 1 } });
    const e = change('Product Added', { product_id: 'a', price: 1, quantity: 2 });
    expect((await destination.deliver(e)).state).toBe('retry');
    expect(items()).toEqual([['a', 3]]);
    const again = await destination.deliver(e);
    expect(again.state).toBe('delivered');
    expect(again.calls.map((c) => `${c.method} ${c.endpoint}`)).toEqual(['GET /user']);
    expect(items()).toEqual([['a', 3]]);
  });

  it('a retried Product Removed that lowered a quantity is not applied twice', async () => {
    await destination.deliver(change('Product Added', { product_id: 'a', price: 1, quantity: 3 }));
    emulator.setFaults({ applyThenFail: { 'POST /purchase': 1 } });
    const e = change('Product Removed', { product_id: 'a', quantity: 1 });
    expect((await destination.deliver(e)).state).toBe('retry');
    expect((await destination.deliver(e)).state).toBe('delivered');
    expect(items()).toEqual([['a', 2]]);
  });
});
