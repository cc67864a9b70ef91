import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/destination/outcome.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { CREDENTIALS, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  // Settings that reach every branch: lists, optout, reminders, receipt, product URLs, expiry.
  h = await startHarness({
    defaultListName: 'L',
    optoutValue: 'basic',
    reminderTemplate: 'r',
    reminderTime: '1 hour',
    sendTemplate: 's',
    productBaseUrl: 'https://shop.example/p',
    cartExpiryHours: 1,
  });
});
afterAll(async () => {
  await h.close();
});

const STATES = ['delivered', 'skipped', 'retry', 'failed', 'paused'];

function checkOutcome(outcome: Outcome): void {
  expect(STATES).toContain(outcome.state);
  expect(Array.isArray(outcome.calls)).toBe(true);
  expect(outcome.warnings.every((w) => typeof w === 'string')).toBe(true);
  if (outcome.state !== 'delivered') expect(typeof outcome.reason).toBe('string');
  if (outcome.state === 'retry' && outcome.retryAfterMs !== undefined) expect(outcome.retryAfterMs).toBeGreaterThanOrEqual(0);
  for (const call of outcome.calls) {
    expect(['GET', 'POST', 'DELETE']).toContain(call.method);
    expect(typeof call.status).toBe('number');
  }
  const text = JSON.stringify(outcome);
  expect(text).not.toContain(CREDENTIALS.secret);
}

/** Keys that have tripped mappers before: prototype names, separators, empties. */
const key = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 8 }) },
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', '_', 'email', 'id', 'url', 'price', 'quantity', 'products'),
);
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 12 }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
/** Mostly the right type, sometimes anything at all, sometimes absent. */
const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: anyJson }), { nil: undefined, freq: 4 });

const product = fc.record(
  {
    product_id: maybe(fc.oneof(fc.string({ maxLength: 6 }), fc.integer())),
    id: maybe(fc.string({ maxLength: 6 })),
    sku: maybe(fc.string({ maxLength: 6 })),
    name: maybe(fc.string({ maxLength: 6 })),
    price: maybe(fc.oneof(fc.double(), fc.constantFrom('19.99', 'abc', '', '1e400'))),
    quantity: maybe(fc.oneof(fc.integer({ min: -3, max: 5 }), fc.double(), fc.constantFrom('2', 'x'))),
    url: maybe(fc.constantFrom('https://shop.example/a', '', 'not a url')),
    image_url: maybe(fc.webUrl()),
    tags: maybe(fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 })),
  },
  { requiredKeys: [] },
);

const segmentLike = fc.record(
  {
    type: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('identify', 'track', 'track', 'track', 'page', 'screen', 'group', 'alias', 'delete') },
      { weight: 1, arbitrary: anyJson },
    ),
    messageId: maybe(fc.string({ maxLength: 8 })),
    userId: maybe(fc.oneof(fc.constantFrom('u-1', 'u-2', 'a@b.co', ''), fc.string({ maxLength: 6 }))),
    anonymousId: maybe(fc.constantFrom('anon-1', 'anon-2', 'u-1')),
    previousId: maybe(fc.constantFrom('anon-1', 'anon-2', 'u-2')),
    event: maybe(
      fc.constantFrom(
        'Order Completed',
        'Completed Order',
        'Product Added',
        'Added Product',
        'Product Removed',
        'Removed Product',
        'User Deleted',
        'purchase',
        'Signed Up',
      ),
    ),
    traits: maybe(fc.dictionary(key, anyJson, { maxKeys: 5 })),
    properties: maybe(
      fc.oneof(
        fc.dictionary(key, anyJson, { maxKeys: 5 }),
        product,
        fc.record({ products: fc.oneof(fc.array(product, { maxLength: 3 }), anyJson), tax: anyJson, adjustments: anyJson, email: anyJson }, { requiredKeys: [] }),
      ),
    ),
    context: maybe(fc.record({ traits: maybe(fc.record({ email: maybe(fc.constantFrom('c@d.co', 'bad')) })), page: maybe(fc.record({ url: maybe(fc.webUrl()) })), userAgent: anyJson }, { requiredKeys: [] })),
    integrations: fc.option(
      fc.record(
        {
          All: maybe(fc.boolean()),
          Sailthru: maybe(
            fc.oneof(
              fc.boolean(),
              fc.record(
                { optoutValue: anyJson, optout_email: anyJson, reminder_time: anyJson, reminderTemplate: anyJson, defaultListName: anyJson, sendTemplate: anyJson },
                { requiredKeys: [] },
              ),
            ),
          ),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined, freq: 2 },
    ),
    timestamp: maybe(fc.constantFrom('2024-05-01T10:00:00Z', 'yesterday')),
  },
  { requiredKeys: [] },
);

describe('deliver never throws (property)', () => {
  it('any JSON value at all resolves to a typed outcome', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (value) => {
        checkOutcome(await h.destination.deliver(value as SegmentEvent));
      }),
      { numRuns: 150 },
    );
  });

  it('Segment-shaped events with wrong types everywhere resolve to a typed outcome', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(segmentLike, async (value) => {
        // Through JSON, as events arrive: `__proto__` becomes an own key.
        let wire: unknown;
        try {
          wire = JSON.parse(JSON.stringify(value));
        } catch {
          wire = value;
        }
        const outcome = await h.destination.deliver(wire as SegmentEvent);
        checkOutcome(outcome);
        seen.set(outcome.state, (seen.get(outcome.state) ?? 0) + 1);
      }),
      { numRuns: 300 },
    );
    // The generator reaches Sailthru, not only the early refusals.
    expect(seen.get('delivered') ?? 0).toBeGreaterThan(5);
    expect(seen.get('failed') ?? 0).toBeGreaterThan(5);
    expect(seen.get('skipped') ?? 0).toBeGreaterThan(5);
    expect(Object.keys(Object.prototype)).toEqual([]);
    // Every request the destination made was well formed enough to be signed and decoded.
    expect(h.emulator.requests().every((r) => r.signatureValid !== false)).toBe(true);
  });
});
