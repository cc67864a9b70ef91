import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event, startHarness, type Harness } from './harness.ts';

/** SPEC.md §0: after an identify or alias tied anonymousId to userId, events with only the anonymousId go to the userId. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ productBaseUrl: 'https://shop.example/p' });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.reset();
});

describe('late anonymous events (SPEC.md §0)', () => {
  it('track → identify (U, A, email) → late track with only A: sent under U, no orphan profile', async () => {
    const d = h.withSettings({});
    expect((await d.deliver(event({ type: 'track', anonymousId: 'A1', event: 'Viewed' }))).state).toBe('delivered');
    expect((await d.deliver(event({ type: 'identify', userId: 'U1', anonymousId: 'A1', traits: { email: 'u1@example.com' } }))).state).toBe('delivered');
    h.mark();
    const late = await d.deliver(event({ type: 'track', anonymousId: 'A1', event: 'Late' }));
    expect(late.state).toBe('delivered');
    expect(late.warnings).toContain('sent under userId U1: anonymousId A1 was identified as that user');
    expect(h.received()).toEqual([{ method: 'POST', path: '/event', payload: { id: 'U1', key: 'extid', event: 'Late' } }]);
    expect(h.emulator.state({}).profiles).toHaveLength(1);

    // A late page view and a late order too; the order finds U1's email.
    const page = await d.deliver(event({ type: 'page', anonymousId: 'A1', properties: { url: 'https://shop.example/x' } }));
    expect(page.calls[0]?.payload).toMatchObject({ userIdValue: 'U1' });
    const order = await d.deliver(event({ type: 'track', anonymousId: 'A1', event: 'Order Completed', properties: { products: [{ product_id: 'p', price: 1 }] } }));
    expect(order.state).toBe('delivered');
    expect(h.emulator.state({}).purchases.map((p) => p.email)).toEqual(['u1@example.com']);
  });

  it('an identify without a profile to merge still ties them; so does an alias', async () => {
    const d = h.withSettings({});
    await d.deliver(event({ type: 'identify', userId: 'U2', anonymousId: 'A2', traits: { email: 'u2@example.com' } }));
    expect((await d.deliver(event({ type: 'track', anonymousId: 'A2', event: 'Late' }))).calls[0]?.payload).toMatchObject({ id: 'U2' });
    const alias = await d.deliver(event({ type: 'alias', userId: 'U3', previousId: 'A3' }));
    expect(alias.state).toBe('skipped');
    expect((await d.deliver(event({ type: 'track', anonymousId: 'A3', event: 'Late' }))).calls[0]?.payload).toMatchObject({ id: 'U3' });
  });

  it('a deletion is never redirected, and forgets the tie', async () => {
    const d = h.withSettings({});
    await d.deliver(event({ type: 'identify', userId: 'U4', anonymousId: 'A4', traits: { email: 'u4@example.com' } }));
    const deletion = await d.deliver(event({ type: 'track', anonymousId: 'A4', event: 'User Deleted', authenticatedBy: 'admin' }));
    expect(deletion.calls[0]?.payload).toEqual({ id: 'A4', key: 'extid' });
    await d.deliver(event({ type: 'delete', userId: 'U4', authenticatedBy: 'admin' }));
    expect((await d.deliver(event({ type: 'track', anonymousId: 'A4', event: 'Late' }))).calls[0]?.payload).toMatchObject({ id: 'A4' });
  });
});
