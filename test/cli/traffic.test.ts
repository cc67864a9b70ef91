import { describe, expect, it } from 'vitest';
import { normalizeEvent, TRACKING_TYPES } from '../../src/segment/index.ts';
import { demoMix, standardMix, type WireEvent } from '../../src/cli/traffic.ts';

const receivedAt = new Date('2024-05-01T12:00:00Z');
const accepted = (e: WireEvent) => normalizeEvent(e, 0, { allowedTypes: TRACKING_TYPES, receivedAt, correctClockSkew: false }).ok;

function kindOf(e: WireEvent): string {
  if (e.type !== 'track') return e.type;
  if (e.event === 'Order Completed') return 'order';
  if (e.event === 'Product Added' || e.event === 'Product Removed') return 'cart';
  return 'track';
}

const props = (e: WireEvent) => (e.properties ?? {}) as Record<string, unknown>;

describe('traffic generator', () => {
  it('is deterministic for a seed, and differs between seeds', () => {
    const a = standardMix({ seed: 7, users: 100 }).take(3000);
    const b = standardMix({ seed: 7, users: 100 }).take(3000);
    const c = standardMix({ seed: 8, users: 100 }).take(3000);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('produces the standard mix over 2,000 users', () => {
    const n = 40_000;
    const events = standardMix({ seed: 1 }).take(n);
    const share = (kind: string) => events.filter((e) => kindOf(e) === kind).length / n;
    expect(share('identify')).toBeCloseTo(0.25, 1);
    expect(share('track')).toBeCloseTo(0.45, 1);
    expect(share('page')).toBeCloseTo(0.1, 1);
    expect(share('order')).toBeCloseTo(0.05, 1);
    expect(share('cart')).toBeCloseTo(0.15, 1);
    expect(Math.abs(share('identify') - 0.25)).toBeLessThan(0.015);
    expect(Math.abs(share('cart') - 0.15)).toBeLessThan(0.015);

    // A fifth of the identifies are first logins: userId + the anonymousId browsed with, email, name.
    const identifies = events.filter((e) => e.type === 'identify');
    const logins = identifies.filter((e) => (e.traits as Record<string, unknown>).firstName !== undefined);
    expect(logins.every((e) => typeof e.anonymousId === 'string' && typeof e.userId === 'string')).toBe(true);
    expect(Math.abs(logins.length / identifies.length - 0.2)).toBeLessThan(0.02);

    const orders = events.filter((e) => kindOf(e) === 'order');
    const withEmail = orders.filter((e) => (e.context as { traits?: { email?: string } } | undefined)?.traits?.email !== undefined);
    expect(Math.abs(withEmail.length / orders.length - 0.5)).toBeLessThan(0.05);

    // People appear by userId, or by the anonymousId of their device (anon-<seed>-<person>-<session>).
    const people = new Set(events.flatMap((e) => [e.userId, /^anon-1-(\d+)-\d+$/.exec(String(e.anonymousId))?.[1]].filter((x) => x !== undefined).map((x) => String(x).replace('user-', ''))));
    expect(people.size).toBeLessThanOrEqual(2000);
    expect(people.size).toBeGreaterThan(1950);
    // Anonymous browsing goes on all along (people log out, come back on new devices).
    const lastQuarter = events.slice((3 * n) / 4).filter((e) => kindOf(e) === 'track' || kindOf(e) === 'page');
    const anonymous = lastQuarter.filter((e) => e.userId === undefined).length / lastQuarter.length;
    expect(anonymous).toBeGreaterThan(0.15);
    expect(anonymous).toBeLessThan(0.7);
  });

  it('sends only events ingest accepts, each with its own messageId', () => {
    const events = standardMix({ seed: 3, users: 50 }).take(5000);
    expect(events.filter((e) => !accepted(e))).toEqual([]);
    expect(new Set(events.map((e) => e.messageId)).size).toBe(events.length);
  });

  it('keeps carts and orders deliverable: removals match the cart, orders without email come from known users', () => {
    const events = standardMix({ seed: 11, users: 40 }).take(20_000);
    const carts = new Map<string, Map<string, number>>();
    const known = new Set<string>();
    for (const e of events) {
      const user = e.userId as string | undefined;
      if (e.type === 'identify' && (e.traits as Record<string, unknown>).email !== undefined && user) known.add(user);
      if (kindOf(e) === 'cart') {
        expect(user).toBeDefined();
        expect(known.has(user as string)).toBe(true);
        const cart = carts.get(user as string) ?? new Map<string, number>();
        carts.set(user as string, cart);
        const id = props(e).product_id as string;
        const qty = props(e).quantity as number;
        if (e.event === 'Product Added') cart.set(id, (cart.get(id) ?? 0) + qty);
        else {
          expect(cart.get(id) ?? 0).toBeGreaterThanOrEqual(qty);
          const left = (cart.get(id) as number) - qty;
          if (left === 0) cart.delete(id);
          else cart.set(id, left);
        }
      }
      if (kindOf(e) === 'order') {
        const email = (e.context as { traits?: { email?: string } } | undefined)?.traits?.email;
        if (email === undefined) expect(known.has(user as string)).toBe(true);
        expect((props(e).products as unknown[]).length).toBeGreaterThan(0);
        if (user) carts.delete(user);
      }
    }
    expect([...carts.values()].some((c) => c.size > 0)).toBe(true);
  });

  it('mixes in the mistakes real integrations make, for the demo', () => {
    const events = demoMix({ seed: 5, users: 100 }).take(10_000);
    const refused = events.filter((e) => !accepted(e));
    expect(refused.length / events.length).toBeGreaterThan(0.004);
    expect(refused.length / events.length).toBeLessThan(0.014);
    expect(events.some((e) => e.event === 'send')).toBe(true);
    expect(events.some((e) => e.type === 'page' && e.properties === undefined)).toBe(true);
    expect(events.some((e) => e.event === 'Order Completed' && e.userId === undefined && e.context === undefined)).toBe(true);
    expect(standardMix({ seed: 5, users: 100 }).take(10_000).some((e) => e.event === 'send')).toBe(false);
  });
});
