import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestSchema } from '../delivery/postgres-helpers.ts';
import { basic, postJson, startStack, waitForDrain, type Stack } from './harness.ts';

/**
 * Remembered carts through the real service: one SQLite process delivers every event, so a
 * user's second cart change needs no GET /user; PostgreSQL workers share lanes, so each change
 * fetches the cart (another worker may have changed it since). Coalescing is off here: queued
 * together, the three changes would otherwise be one GET and one POST in both (issue 19).
 */
const NO_COALESCING = { SAILTHRU_COALESCE_BACKLOG: 'off' };
const SHOE = { product_id: 'shoe-1', name: 'Shoe', price: 10, url: 'https://shop.example/shoe-1' };
const HAT = { product_id: 'hat-1', name: 'Hat', price: 5, url: 'https://shop.example/hat-1' };

function batch() {
  const base = { userId: 'cart-user', timestamp: '2024-05-01T10:00:00.000Z' };
  return {
    batch: [
      { ...base, type: 'identify', messageId: 'cm-1', traits: { email: 'cart-user@example.com' } },
      { ...base, type: 'track', messageId: 'cm-2', event: 'Product Added', properties: SHOE },
      { ...base, type: 'track', messageId: 'cm-3', event: 'Product Added', properties: HAT },
      { ...base, type: 'track', messageId: 'cm-4', event: 'Product Removed', properties: { product_id: 'shoe-1' } },
    ],
  };
}

async function cartRun(stack: Stack) {
  const res = await postJson(`${stack.service.url}/v1/batch`, batch(), basic(stack.writeKey));
  expect(res.status).toBe(200);
  await waitForDrain(stack.service);
  const gets = stack.emulator.requests({ path: '/user', method: 'GET' }).length;
  const cart = stack.emulator.state({ key: 'extid', id: 'cart-user' }).profiles[0]?.cart?.items.map((i) => [i.id, i.qty]);
  return { gets, cart };
}

describe('remembered carts in the service', () => {
  describe('SQLite (one delivering process)', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: NO_COALESCING });
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it('fetches the cart for the first change only', async () => {
      expect(await cartRun(stack)).toEqual({ gets: 1, cart: [['hat-1', 1]] });
    });
  });

  describe('PostgreSQL (workers share lanes)', () => {
    let stack: Stack;
    let schema: TestSchema;
    beforeAll(async () => {
      schema = new TestSchema();
      stack = await startStack({ env: { ...NO_COALESCING, DATABASE_URL: schema.url() } });
    });
    afterAll(async () => {
      await stack?.stop();
      await schema?.dispose();
    });

    it('fetches the cart for every change', async () => {
      expect(await cartRun(stack)).toEqual({ gets: 3, cart: [['hat-1', 1]] });
    });
  });
});
