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

type Fields = Record<string, unknown>;

async function identifyPayload(fields: Fields, destination = h.destination): Promise<{ payload: Fields; warnings: string[] }> {
  const outcome = await destination.deliver(event({ type: 'identify', ...fields }));
  expect(outcome.state, JSON.stringify(outcome)).toBe('delivered');
  const posts = h.received().filter((r) => r.method === 'POST' && r.path === '/user');
  return { payload: posts.at(-1)!.payload as Fields, warnings: outcome.warnings };
}

function listsOf(userId: string): string[] {
  return Object.keys(h.emulator.state({ key: 'extid', id: userId }).profiles[0]?.lists ?? {}).sort();
}

describe('lists from identify (SPEC.md §2.2)', () => {
  it('joins and leaves several lists at once from integrations.Sailthru.lists, and Sailthru keeps them per profile', async () => {
    await identifyPayload({ userId: 'l-1', traits: { email: 'l1@example.com' }, integrations: { Sailthru: { lists: { Weekly: true, Promo: true, Daily: 1 } } } });
    expect(listsOf('l-1')).toEqual(['Daily', 'Promo', 'Weekly']);
    const { payload } = await identifyPayload({ userId: 'l-1', integrations: { Sailthru: { lists: { Weekly: true, Promo: false, Daily: 0 } } } });
    expect(payload.lists).toEqual({ Weekly: 1, Promo: 0, Daily: 0 });
    expect(listsOf('l-1')).toEqual(['Weekly']);
  });

  it('reads traits.lists as an object of booleans or an array of names, never as vars', async () => {
    const asObject = await identifyPayload({ userId: 'l-2', traits: { email: 'l2@example.com', plan: 'pro', lists: { Weekly: true, Promo: false } } });
    expect(asObject.payload.lists).toEqual({ Weekly: 1, Promo: 0 });
    expect(asObject.payload.vars).toEqual({ plan: 'pro' });
    const asArray = await identifyPayload({ userId: 'l-3', context: { traits: { lists: ['Weekly', 'Offers'] } } });
    expect(asArray.payload.lists).toEqual({ Weekly: 1, Offers: 1 });
    expect(asArray.payload).not.toHaveProperty('vars');
    expect(listsOf('l-3')).toEqual(['Offers', 'Weekly']);
  });

  it('lets explicit entries win over the default list, and integrations.Sailthru over traits', async () => {
    const d = h.withSettings({ defaultListName: 'Newsletter' });
    const left = await identifyPayload({ userId: 'l-4', traits: { lists: { Newsletter: false, VIP: true } } }, d);
    expect(left.payload.lists).toEqual({ Newsletter: 0, VIP: 1 });
    const joined = await identifyPayload({ userId: 'l-5', traits: { lists: ['VIP'] } }, d);
    expect(joined.payload.lists).toEqual({ Newsletter: 1, VIP: 1 });
    const both = await identifyPayload({ userId: 'l-6', traits: { lists: { VIP: true } }, integrations: { Sailthru: { lists: { VIP: false } } } });
    expect(both.payload.lists).toEqual({ VIP: 0 });
  });

  it('names each entry it cannot read instead of guessing, and sends the rest', async () => {
    const { payload, warnings } = await identifyPayload({ userId: 'l-7', traits: { lists: { Weekly: 'yes', Promo: true, '': 1 } } });
    expect(payload.lists).toEqual({ Promo: 1 });
    expect(warnings).toContain('traits.lists.Weekly "yes" ignored: use true or 1 to join, false or 0 to leave');
    expect(warnings).toContain('traits.lists has an empty list name; ignored');
    const wrongShape = await identifyPayload({ userId: 'l-8', traits: { lists: 'Weekly' } });
    expect(wrongShape.payload).not.toHaveProperty('lists');
    expect(wrongShape.warnings.join('\n')).toContain('traits.lists "Weekly" ignored');
  });
});

describe('opt-out from traits (SPEC.md §2.4)', () => {
  it('sends a valid traits.optout_email, and Sailthru records it', async () => {
    const { payload } = await identifyPayload({ userId: 'o-1', traits: { email: 'o1@example.com', optout_email: 'all' } });
    expect(payload.optout_email).toBe('all');
    expect(payload).not.toHaveProperty('vars');
    expect(h.emulator.state({ key: 'extid', id: 'o-1' }).profiles[0]?.optout_email).toBe('all');
  });

  it('lets traits say none on purpose, even where the setting is none', async () => {
    const { payload } = await identifyPayload({ userId: 'o-2', context: { traits: { optout_email: 'none' } } });
    expect(payload.optout_email).toBe('none');
  });

  it('ranks integrations.Sailthru above the trait, and the trait above the setting', async () => {
    const override = await identifyPayload({ userId: 'o-3', traits: { optout_email: 'all' }, integrations: { Sailthru: { optoutValue: 'basic' } } });
    expect(override.payload.optout_email).toBe('basic');
    const d = h.withSettings({ optoutValue: 'blast' });
    expect((await identifyPayload({ userId: 'o-4', traits: { optout_email: 'none' } }, d)).payload.optout_email).toBe('none');
    expect((await identifyPayload({ userId: 'o-5', traits: {} }, d)).payload.optout_email).toBe('blast');
  });

  it('ignores a trait that is not a level with a warning naming it (and falls back to the setting)', async () => {
    const { payload, warnings } = await identifyPayload({ userId: 'o-6', traits: { optout_email: true } });
    expect(payload).not.toHaveProperty('optout_email');
    expect(warnings).toContain('traits.optout_email true ignored: use none, all, basic or blast');
  });
});
