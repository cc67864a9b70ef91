import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Destination } from '../../src/destination/index.ts';
import { DEFAULT_MAPPINGS, defaultMappings } from '../../src/destination/mappings/defaults.ts';
import type { Mapping } from '../../src/destination/mappings/schema.ts';
import { validateMappings } from '../../src/destination/mappings/validate.ts';
import { event, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ defaultListName: 'Newsletter' });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

function withMappings(mappings: Mapping[]): Destination {
  const checked = validateMappings(mappings);
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  const matched: Array<string | null> = [];
  const d = h.withSettings({}, { mappings: checked.mappings, onMatched: (m) => matched.push(m?.id ?? null) });
  return Object.assign(d, { matched });
}

function m(id: string, trigger: Mapping['trigger'], action: Mapping['action'], fields?: Mapping['fields'], extra: Partial<Mapping> = {}): Mapping {
  return { id, name: `mapping ${id}`, enabled: true, trigger, action, ...(fields ? { fields } : {}), ...extra };
}

const track = (name: unknown, properties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  event({ type: 'track', userId: 'u1', event: name as string, properties, ...extra });

describe('triggers', () => {
  it('event name: equals, one of, starts with; non-matching events fall through to the next mapping', async () => {
    const d = withMappings([
      m('eq', { types: ['track'], event: { equals: 'Signed Up' } }, 'custom-event', { eventName: { fixed: 'eq' } }),
      m('one', { types: ['track'], event: { oneOf: ['A', 'B'] } }, 'custom-event', { eventName: { fixed: 'one' } }),
      m('pre', { types: ['track'], event: { startsWith: 'Video ' } }, 'custom-event', { eventName: { fixed: 'pre' } }),
    ]);
    for (const name of ['Signed Up', 'B', 'Video Played', 'signed up', 'Videos']) await d.deliver(track(name));
    const sent = h.received().filter((r) => r.path === '/event').map((r) => (r.payload as { event: string }).event);
    expect(sent).toEqual(['eq', 'one', 'pre']);
    expect((d as unknown as { matched: unknown[] }).matched).toEqual(['eq', 'one', 'pre', null, null]);
  });

  it('conditions: comparisons on numbers, exists / not exists, =, !=, contains, is array', async () => {
    const cases: Array<[Mapping['trigger']['conditions'], Record<string, unknown>, boolean]> = [
      [[{ path: 'properties.total', op: '>', value: 100 }], { total: 150 }, true],
      [[{ path: 'properties.total', op: '>', value: 100 }], { total: 100 }, false],
      [[{ path: 'properties.total', op: '>=', value: 100 }], { total: '100' }, true],
      [[{ path: 'properties.total', op: '<', value: 10 }], { total: 'ten' }, false],
      [[{ path: 'properties.total', op: '<=', value: 10 }], { total: 10 }, true],
      [[{ path: 'context.traits.email', op: 'exists' }], {}, false],
      [[{ path: 'properties.plan', op: 'not exists' }], { plan: null }, true],
      [[{ path: 'properties.plan', op: '=', value: 'pro' }], { plan: 'pro' }, true],
      [[{ path: 'properties.plan', op: '!=', value: 'pro' }], { plan: 'free' }, true],
      [[{ path: 'properties.plan', op: '!=', value: 'pro' }], {}, true],
      [[{ path: 'properties.title', op: 'contains', value: 'sale' }], { title: 'summer sale' }, true],
      [[{ path: 'properties.tags', op: 'contains', value: 'vip' }], { tags: ['new', 'vip'] }, true],
      [[{ path: 'properties.tags', op: 'contains', value: 'vip' }], { tags: 'v-i-p' }, false],
      [[{ path: 'properties.items', op: 'is array' }], { items: {} }, false],
      [[{ path: 'properties.total', op: '>', value: 1 }, { path: 'properties.plan', op: '=', value: 'pro' }], { total: 5, plan: 'free' }, false],
    ];
    for (const [conditions, properties, expected] of cases) {
      const d = withMappings([m('c', { types: ['track'], conditions: conditions! }, 'custom-event')]);
      const outcome = await d.deliver(track('Checked', properties));
      expect({ conditions, properties, state: outcome.state }).toEqual({ conditions, properties, state: expected ? 'delivered' : 'skipped' });
    }
    const d = withMappings([m('c', { types: ['track'], conditions: [{ path: 'context.traits.email', op: 'exists' }] }, 'custom-event')]);
    expect((await d.deliver(track('Checked', {}, { context: { traits: { email: 'a@example.com' } } }))).state).toBe('delivered');
  });

  it('event types: one mapping may take several', async () => {
    const d = withMappings([m('both', { types: ['page', 'screen'] }, 'drop', { reason: { fixed: 'no views here' } })]);
    expect(await d.deliver(event({ type: 'screen', userId: 'u1', name: 'Home' }))).toMatchObject({ state: 'skipped', reason: 'no views here' });
    expect(await d.deliver(event({ type: 'page', userId: 'u1', name: 'Home' }))).toMatchObject({ state: 'skipped', reason: 'no views here' });
    expect(await d.deliver(event({ type: 'identify', userId: 'u1' }))).toMatchObject({ state: 'skipped', reason: 'no mapping matches' });
  });
});

describe('order and outcomes', () => {
  it('first match wins, disabled mappings are passed over, drop is skipped with the mapping name, no match is skipped', async () => {
    const mappings = [
      m('off', { types: ['track'] }, 'custom-event', { eventName: { fixed: 'never' } }, { enabled: false }),
      m('noise', { types: ['track'], event: { startsWith: 'Debug' } }, 'drop', undefined, { name: 'Debug noise' }),
      m('big', { types: ['track'], conditions: [{ path: 'properties.total', op: '>', value: 100 }] }, 'custom-event', { eventName: { fixed: 'Big' } }),
      m('all', { types: ['track'], event: { startsWith: 'Order' } }, 'custom-event'),
    ];
    const d = withMappings(mappings);
    expect(await d.deliver(track('Debug Tick', { total: 500 }))).toEqual({ state: 'skipped', reason: 'dropped by mapping "Debug noise"', calls: [], warnings: [] });
    expect((await d.deliver(track('Order Placed', { total: 500 }))).calls[0]?.payload).toMatchObject({ event: 'Big' });
    expect((await d.deliver(track('Order Placed', { total: 5 }))).calls[0]?.payload).toMatchObject({ event: 'Order Placed' });
    expect(await d.deliver(track('Other'))).toEqual({ state: 'skipped', reason: 'no mapping matches', calls: [], warnings: [] });
    // Reordered: the catch-all first takes everything it matches.
    const reordered = withMappings([mappings[3]!, mappings[2]!]);
    expect((await reordered.deliver(track('Order Placed', { total: 500 }))).calls[0]?.payload).toMatchObject({ event: 'Order Placed' });
  });

  it('an empty mapping list sends nothing', async () => {
    const d = withMappings([]);
    expect(await d.deliver(event({ type: 'identify', userId: 'u1', traits: { email: 'a@example.com' } }))).toMatchObject({ state: 'skipped', reason: 'no mapping matches' });
    expect(h.received()).toEqual([]);
  });
});

describe('fields', () => {
  it('source fields: a path (first present wins) or fixed text; the custom event name and the email', async () => {
    const d = withMappings([
      m('ev', { types: ['track'] }, 'custom-event', { eventName: { from: ['properties.kind', 'event'] } }),
      m('id', { types: ['identify'] }, 'profile-update', { email: { from: ['traits.work_email'] } }),
    ]);
    await d.deliver(track('Clicked', { kind: 'Banner Click' }));
    await d.deliver(track('Clicked'));
    await d.deliver(event({ type: 'identify', userId: 'u1', traits: { email: 'home@example.com', work_email: 'work@example.com' } }));
    const sent = h.received();
    expect(sent.filter((r) => r.path === '/event').map((r) => (r.payload as { event: string }).event)).toEqual(['Banner Click', 'Clicked']);
    const user = sent.find((r) => r.path === '/user')!.payload as { keys: { email: string } };
    expect(user.keys.email).toBe('work@example.com');
  });

  it('page-view url from another path', async () => {
    const d = withMappings([m('p', { types: ['page'] }, 'page-view', { url: { from: ['properties.canonical'] } })]);
    await d.deliver(event({ type: 'page', userId: 'u1', properties: { url: 'https://a.example/x', canonical: 'https://a.example/canonical' } }));
    expect(h.received().at(-1)?.payload).toMatchObject({ url: 'https://a.example/canonical' });
  });

  it('list subscribe / unsubscribe take the list name from a path or fixed text', async () => {
    const d = withMappings([
      m('sub', { types: ['track'], event: { equals: 'Joined' } }, 'list-subscribe', { listName: { from: ['properties.list'] } }),
      m('unsub', { types: ['track'], event: { equals: 'Left' } }, 'list-unsubscribe', { listName: { fixed: 'Weekly' } }),
    ]);
    await d.deliver(track('Joined', { list: 'Offers' }, { traits: { email: 'a@example.com' } }));
    await d.deliver(track('Left'));
    expect(await d.deliver(track('Joined'))).toMatchObject({ state: 'failed', reason: expect.stringContaining('no list name') });
    expect(h.received().map((r) => r.payload)).toEqual([
      { id: 'u1', key: 'extid', keys: { email: 'a@example.com' }, lists: { Offers: 1 } },
      { id: 'u1', key: 'extid', lists: { Weekly: 0 } },
    ]);
  });

  it('a deny-list keeps a property out of every call: vars, nested vars, item vars, and as an email source', async () => {
    const deny = { vars: { deny: ['phone', 'email', 'address.street'] } };
    const d = withMappings([
      m('buy', { types: ['track'], event: { equals: 'Order Completed' } }, 'purchase', deny),
      m('add', { types: ['track'], event: { equals: 'Product Added' } }, 'cart-add', deny),
      m('ev', { types: ['track'] }, 'custom-event', deny),
      m('id', { types: ['identify'] }, 'profile-update', { vars: { deny: ['phone'] } }),
    ]);
    const pii = { phone: '+1-555-0100', address: { street: '1 Secret Way', city: 'Paris' }, customer: { phone: '+1-555-0101' } };
    const product = { product_id: 'p1', name: 'Thing', price: 5, quantity: 1, url: 'https://shop.example/p1', phone: '+1-555-0102', email: 'item@example.com' };
    await d.deliver(event({ type: 'identify', userId: 'u1', traits: { email: 'u1@example.com', phone: '+1-555-0103', nested: { phone: 'x' } } }));
    await d.deliver(track('Order Completed', { order_id: 'o1', products: [product], email: 'prop@example.com', ...pii }, { traits: { email: 'u1@example.com' } }));
    await d.deliver(track('Product Added', { ...product, ...pii }, { traits: { email: 'u1@example.com' } }));
    await d.deliver(track('Viewed', { ...pii, products: [product], email: 'prop@example.com' }));
    const sent = JSON.stringify(h.received());
    expect(sent).toContain('/purchase');
    expect(sent).toContain('/event');
    expect(sent).toContain('Paris');
    for (const secret of ['555-01', '1 Secret Way', 'item@example.com', 'prop@example.com']) expect(sent).not.toContain(secret);
  });

  it('an allow-list sends only the named vars and keeps the action its own inputs', async () => {
    const d = withMappings([
      m('buy', { types: ['track'], event: { equals: 'Order Completed' } }, 'purchase', { vars: { allow: ['coupon', 'customer.tier'] } }),
      m('ev', { types: ['track'] }, 'custom-event', { vars: { allow: ['plan'] } }),
    ]);
    const product = { product_id: 'p1', name: 'Thing', price: 5, quantity: 2, url: 'https://shop.example/p1', color: 'red', coupon: 'ITEM' };
    await d.deliver(track('Order Completed', { order_id: 'o1', products: [product], coupon: 'SAVE', secret: 'x', customer: { tier: 'gold', phone: '1' } }, { traits: { email: 'u1@example.com' } }));
    await d.deliver(track('Viewed', { plan: 'pro', phone: '+1' }));
    const [purchase, ev] = h.received().map((r) => r.payload as Record<string, unknown>);
    expect(purchase).toMatchObject({ purchase_keys: { extid: 'o1' }, vars: { coupon: 'SAVE', customer_tier: 'gold' } });
    // order_id is the purchase's own input (purchase_keys) that SPEC.md §5 also sends as a var.
    expect(Object.keys(purchase!.vars as object).sort()).toEqual(['coupon', 'customer_tier', 'order_id']);
    expect((purchase!.items as Array<Record<string, unknown>>)[0]).toMatchObject({ id: 'p1', qty: 2, price: 500, vars: { coupon: 'ITEM' } });
    expect(ev!.vars).toEqual({ plan: 'pro' });
  });
});

describe('defaults', () => {
  it('DEFAULT_MAPPINGS validate, and a destination without mappings keeps today’s skip reasons', async () => {
    expect(validateMappings(defaultMappings())).toMatchObject({ ok: true });
    expect(DEFAULT_MAPPINGS.at(-1)?.action).toBe('custom-event');
    expect(await h.destination.deliver(event({ type: 'group', userId: 'u1' }))).toEqual({
      state: 'skipped',
      reason: 'group calls are not supported by Sailthru',
      calls: [],
      warnings: [],
    });
  });
});

describe('validation', () => {
  it('names the field path of each problem', () => {
    const bad = [
      m('a', { types: ['track'] }, 'custom-event'),
      m('a', { types: ['track'], conditions: [{ path: 'properties.total', op: 'bigger' as never, value: 1 }] }, 'custom-event'),
      { ...m('c', { types: ['tracks' as never] }, 'custom-event'), extra: 1 },
      m('d', { types: ['track'], event: { equals: 'x', startsWith: 'y' } }, 'custom-event', { eventName: { from: ['event'], fixed: 'x' }, nope: 1 }),
      m('e', { types: ['track'], conditions: [{ path: 'properties.total', op: '>', value: '100' }, { path: 'x', op: 'exists', value: 1 }] }, 'nothing' as never),
    ];
    const result = validateMappings(bad);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        'mappings[1].trigger.conditions[0].op: must be one of exists, not exists, =, !=, >, >=, <, <=, contains, is array',
        'mappings[2]: unknown field extra',
        'mappings[2].trigger.types[0]: must be one of identify, track, page, screen, group, alias, delete',
        'mappings[4].action: must be one of profile-update, merge-profiles, custom-event, purchase, return, cart-add, cart-remove, cart-replace, page-view, list-subscribe, list-unsubscribe, delete-user, drop',
      ]),
    );
    const second = validateMappings(bad.slice(0, 2).map((x, i) => (i === 1 ? { ...x, trigger: { types: ['track'] } } : x)).concat([bad[3]!]));
    expect(second.ok ? [] : second.errors).toEqual(
      expect.arrayContaining([
        'mappings[1].id: "a" is already the id of mappings[0]',
        'mappings[2].trigger.event: give exactly one of equals, oneOf, startsWith',
        'mappings[2].fields: unknown field nope',
      ]),
    );
    const third = validateMappings([m('e', { types: ['track'], conditions: [{ path: 'properties.total', op: '>', value: '100' }, { path: 'x', op: 'exists', value: 1 }] }, 'custom-event', { eventName: { from: ['event'], fixed: 'x' } })]);
    expect(third.ok ? [] : third.errors).toEqual([
      'mappings[0].trigger.conditions[0].value: > compares numbers: give a number',
      'mappings[0].trigger.conditions[1].value: exists takes no value',
      'mappings[0].fields.eventName: give exactly one of from (paths) or fixed (text)',
    ]);
    expect(validateMappings({})).toEqual({ ok: false, errors: ['mappings: must be a list'] });
  });
});

describe('validation of what could never match (found by the hostile-input review)', () => {
  const errorsOf = (mappings: unknown[]): string[] => {
    const result = validateMappings(mappings);
    return result.ok ? [] : result.errors;
  };

  it('refuses a path that no event can have: prototype keys, empty segments', () => {
    const cond = (path: string) => m('p', { types: ['track'], conditions: [{ path, op: 'exists' }] }, 'custom-event');
    expect(errorsOf([cond('__proto__.polluted')])).toEqual(['mappings[0].trigger.conditions[0].path: __proto__, constructor and prototype are never read from an event']);
    expect(errorsOf([cond('properties.constructor.prototype')])).toEqual(['mappings[0].trigger.conditions[0].path: __proto__, constructor and prototype are never read from an event']);
    expect(errorsOf([cond('properties..total')])).toEqual(['mappings[0].trigger.conditions[0].path: must be names separated by single dots (no empty name, no spaces)']);
    expect(errorsOf([cond('properties.')])).toHaveLength(1);
    expect(errorsOf([m('f', { types: ['track'] }, 'custom-event', { eventName: { from: ['properties.__proto__'] } })])).toEqual([
      'mappings[0].fields.eventName.from[0]: __proto__, constructor and prototype are never read from an event',
    ]);
    // A deep path made of proper names is fine.
    expect(errorsOf([cond(Array(60).fill('a').join('.'))])).toEqual([]);
  });

  it('refuses blank fixed text (it would resolve to nothing) and repeated event types', () => {
    expect(errorsOf([m('f', { types: ['track'] }, 'custom-event', { eventName: { fixed: '  ' } })])).toEqual(['mappings[0].fields.eventName.fixed: must not be blank']);
    expect(errorsOf([m('t', { types: ['track', 'track'] }, 'custom-event')])).toEqual(['mappings[0].trigger.types: must not repeat an item']);
  });
});

describe('an event type that is not text (a library caller)', () => {
  it('fails naming it, never as an internal error', async () => {
    const d = h.withSettings({});
    for (const type of [{ toString: 1 }, Object.create(null) as object, ['track']]) {
      const outcome = await d.deliver({ type, userId: 'u1', event: 'x' } as unknown as Parameters<Destination['deliver']>[0]);
      expect(outcome).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^unknown event type "(an object|a list)"$/) });
    }
  });
});
