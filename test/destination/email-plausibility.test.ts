import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventEmailOf, looksLikeEmail } from '../../src/destination/identity.ts';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

/** SPEC.md §0: an implausible email is ignored with a warning naming the field; the next source is tried. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ productBaseUrl: 'https://shop.example/p' });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

describe('plausible email addresses (SPEC.md §0)', () => {
  it.each(['a@b.co', 'first.last+tag@mail.example.org', `${'x'.repeat(240)}@example.com`])('%j is plausible', (email) => {
    expect(looksLikeEmail(email)).toBe(true);
  });
  it.each(['oops@', 'bad@@x', 'bad@@x.com', '@example.com', 'a@example', 'a@.com', 'a@example.', 'a b@example.com', 'a@exa\u0000mple.com', 'a@ex\tample.com', `${'x'.repeat(250)}@example.com`])(
    '%j is not',
    (email) => {
      expect(looksLikeEmail(email)).toBe(false);
    },
  );

  it('the next source is tried, and the skipped field is named', () => {
    const warnings: string[] = [];
    const email = eventEmailOf(
      { type: 'track', messageId: 'm', userId: 'u', traits: { email: 'bad@@x' }, context: { traits: { email: 'oops@' } }, properties: { email: 'good@example.com' } },
      (w) => warnings.push(w),
    );
    expect(email).toBe('good@example.com');
    expect(warnings).toEqual([
      'traits.email "bad@@x" is not a plausible email address; ignored',
      'context.traits.email "oops@" is not a plausible email address; ignored',
    ]);
  });

  it('Order Completed with context.traits.email "oops@" is sent with the profile\'s address', async () => {
    await identifyUser(h.destination, 'buyer', { email: 'buyer@example.com' });
    h.mark();
    const outcome = await h.destination.deliver(
      event({
        type: 'track',
        userId: 'buyer',
        event: 'Order Completed',
        context: { traits: { email: 'oops@' } },
        properties: { order_id: 'o-1', products: [{ product_id: 'a', price: 10 }] },
      }),
    );
    expect(outcome.state).toBe('delivered');
    expect(outcome.warnings).toContain('context.traits.email "oops@" is not a plausible email address; ignored');
    const purchase = h.received().find((r) => r.path === '/purchase');
    expect(purchase?.payload).toMatchObject({ email: 'buyer@example.com' });
  });

  it('identify with traits.email "bad@@x" still updates the profile, without the email', async () => {
    await identifyUser(h.destination, 'person', { email: 'person@example.com', plan: 'free' });
    h.mark();
    const outcome = await h.destination.deliver(event({ type: 'identify', userId: 'person', traits: { email: 'bad@@x', plan: 'pro' } }));
    expect(outcome.state).toBe('delivered');
    expect(outcome.warnings).toContain('traits.email "bad@@x" is not a plausible email address; ignored');
    const post = h.received().find((r) => r.method === 'POST' && r.path === '/user');
    expect(post?.payload).toEqual({ id: 'person', key: 'extid', keysconflict: 'merge', vars: { plan: 'pro' } });
    const profile = h.emulator.state({ key: 'extid', id: 'person' }).profiles[0];
    expect(profile?.keys.email).toBe('person@example.com');
    expect(profile?.vars).toMatchObject({ plan: 'pro' });
  });
});
