import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, ActionContext } from '../../src/destination/action.ts';
import { alias } from '../../src/destination/actions/alias.ts';
import { productAdded, productRemoved } from '../../src/destination/actions/cart-change.ts';
import { cartSync } from '../../src/destination/actions/cart-sync.ts';
import { deleteUser } from '../../src/destination/actions/delete-user.ts';
import { identify } from '../../src/destination/actions/identify.ts';
import { orderCompleted } from '../../src/destination/actions/order-completed.ts';
import { orderRefunded } from '../../src/destination/actions/order-refunded.ts';
import { pageView } from '../../src/destination/actions/page-view.ts';
import { trackEvent } from '../../src/destination/actions/track-event.ts';
import { destinationMemory } from '../../src/destination/index.ts';
import { extidOf } from '../../src/destination/identity.ts';
import { OVERRIDE_KEYS, resolveEventSettings, type EventSettings } from '../../src/destination/overrides.ts';
import { recordingPort } from '../../src/destination/sailthru-port.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { SailthruClient } from '../../src/sailthru/client.ts';
import type { CallRecord } from '../../src/sailthru/types.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { CREDENTIALS, event } from './harness.ts';

/**
 * Each action declares the event fields it reads and the Sailthru calls it may make (Segment's
 * action-destinations style; docs/sailthru-setup.md's mapping table follows them). Nothing reads
 * those lists, so this checks them against what the actions do: each action runs on events that
 * take its branches, against the emulator, with the event behind a proxy noting every field read.
 * Every field read must be declared (or lie under or on the way to a declared one), every call
 * made must be declared, and every declaration must be met by some event.
 */

/** The event as a proxy that notes the path of every field read, present or not. */
function recorded<T>(value: T, path: string, reads: Set<string>): T {
  if (typeof value !== 'object' || value === null) return value;
  const note = (target: object, key: string | symbol): string | null => {
    if (typeof key !== 'string' || IGNORED_KEYS.has(key)) return null;
    // Methods found on the prototype (an array's map, say) are not fields of the event.
    if (!Object.prototype.hasOwnProperty.call(target, key) && key in target) return null;
    if (Array.isArray(target) && key === 'length') return null;
    const at = /^\d+$/.test(key) ? `${path}[]` : path === '' ? key : `${path}.${key}`;
    reads.add(at);
    return at;
  };
  return new Proxy(value, {
    get(target, key, receiver) {
      const at = note(target, key);
      const found: unknown = Reflect.get(target, key, receiver);
      return at === null ? found : recorded(found, at, reads);
    },
    getOwnPropertyDescriptor(target, key) {
      note(target, key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    has(target, key) {
      note(target, key);
      return Reflect.has(target, key);
    },
  });
}

const IGNORED_KEYS = new Set(['toJSON', 'then', 'constructor']);

/** Reading a resolved per-event setting is reading its override in `integrations.Sailthru`. */
function recordedEventSettings(eventSettings: EventSettings, reads: Set<string>): EventSettings {
  return new Proxy(eventSettings, {
    get(target, key, receiver) {
      if (typeof key === 'string' && key in OVERRIDE_KEYS) reads.add(`integrations.Sailthru.${OVERRIDE_KEYS[key as keyof EventSettings][0]}`);
      return Reflect.get(target, key, receiver);
    },
  });
}

/** A declaration's own words: the path or call before any explanation in parentheses. */
const declaredRead = (text: string): string => text.split(' (')[0]!.trim();
const declaredSend = (text: string): string => {
  const [method, path] = text.replace('{trackUrl}', '').split(' ');
  return `${method} ${path}`;
};

/** Read `path` is declared: as such, as part of a declared field, or on the way to one. */
function covered(path: string, declared: readonly string[]): boolean {
  const plain = path.replace(/\[\]/g, '');
  return declared.some((d) => plain === d || plain.startsWith(`${d}.`) || d.startsWith(`${plain}.`));
}

interface Scenario {
  event: SegmentEvent;
  /** Delivered first, unobserved (a cart to remove from). */
  first?: { action: Action; event: SegmentEvent };
  settings?: Partial<DestinationSettings>;
  /** Profiles the emulator has before the event (through POST /user). */
  profiles?: Array<Record<string, unknown>>;
}

const user = () => `u-${Math.random().toString(36).slice(2, 10)}`;

const PRODUCT = { product_id: 'p1', name: 'Shoe', quantity: 2, price: 10, url: 'https://shop.example/p1', tags: ['a'], image_url: 'https://i.example/1.jpg', image_url_thumb: 'https://i.example/t.jpg' };

/** Events that take each action through its branches (reads and calls may differ per branch). */
function scenarios(action: Action): Scenario[] {
  const id = user();
  const anon = `anon-${id}`;
  switch (action) {
    case identify:
      return [
        { event: event({ type: 'identify', userId: id, traits: { email: `${id}@example.com`, plan: 'pro' } }) },
        { event: event({ type: 'identify', userId: `${id}-2`, anonymousId: `${anon}-2`, context: { traits: { email: `${id}@example.com` } } }), profiles: [{ id: `${anon}-2`, key: 'extid' }] },
        { event: event({ type: 'identify', anonymousId: `${anon}-3`, properties: { email: `${id}-3@example.com` } }) },
        {
          event: event({
            type: 'identify',
            userId: `${id}-4`,
            traits: { lists: ['Weekly'], optout_email: 'basic' },
            integrations: { Sailthru: { lists: { Promo: false } } },
          }),
        },
      ];
    case alias:
      return [
        { event: event({ type: 'alias', userId: id, previousId: anon, context: { traits: { email: `${id}@example.com` } } }), profiles: [{ id: anon, key: 'extid' }] },
        { event: event({ type: 'alias', userId: `${id}-2`, previousId: `${anon}-2`, traits: { email: `${id}@example.com` } }), profiles: [{ id: `${anon}-2`, key: 'extid' }] },
        { event: event({ type: 'alias', userId: `${id}@example.com`, previousId: `${anon}-3`, properties: { plan: 'pro' } }), profiles: [{ id: `${anon}-3`, key: 'extid' }] },
        { event: event({ type: 'alias', userId: `${id}-4`, previousId: `${anon}-4` }) },
      ];
    case pageView:
      return [
        { event: event({ type: 'page', userId: id, properties: { url: 'https://shop.example/a', keywords: ['x', 'y'] } }), settings: { customerId: CREDENTIALS.customerId } },
        { event: event({ type: 'page', anonymousId: anon, context: { page: { url: 'https://shop.example/b' } }, properties: { tags: 'a,b' } }), settings: { customerId: CREDENTIALS.customerId } },
      ];
    case deleteUser:
      // The deletion reads the event's email (the first plausible one) only to forget who last posted it.
      return [
        {
          event: event({
            type: 'delete',
            userId: id,
            authenticatedBy: 'admin',
            traits: { email: 'not an address' },
            context: { traits: { email: 'nor this' } },
            properties: { email: `${id}@example.com` },
          }),
        },
        { event: event({ type: 'track', event: 'User Deleted', anonymousId: anon, authenticatedBy: 'webhook-signature', traits: { email: `${anon}@example.com` } }) },
      ];
    case trackEvent:
      return [{ event: event({ type: 'track', event: 'Signed Up', userId: id, properties: { plan: 'pro' } }) }, { event: event({ type: 'track', event: 'Viewed', anonymousId: anon }) }];
    case orderCompleted:
      return [
        {
          event: event({
            type: 'track',
            event: 'Order Completed',
            userId: id,
            properties: { order_id: 'o1', products: [PRODUCT], tax: 1, shipping: 2, discount: 3, revenue: 20 },
            context: { traits: { email: `${id}@example.com` }, userAgent: 'UA', page: { url: 'https://shop.example/c' } },
          }),
          settings: { sendTemplate: 'receipt' },
        },
        {
          event: event({ type: 'track', event: 'Order Completed', userId: `${id}-2`, traits: { name: 'Ann' }, properties: { products: [PRODUCT], adjustments: [{ title: 'Gift', price: -5 }] } }),
          profiles: [{ id: `${id}-2`, key: 'extid', keys: { email: `${id}-2@example.com` } }],
        },
        {
          event: event({
            type: 'track',
            event: 'Order Completed',
            userId: `${id}-3`,
            traits: { email: `${id}-3@example.com` },
            properties: { products: [PRODUCT], sailthru_bid: 'bid-1', message_id: 'm-1' },
            integrations: { Sailthru: { message_id: 'm-2' } },
          }),
        },
      ];
    case orderRefunded:
      return [
        {
          event: event({ type: 'track', event: 'Order Refunded', userId: id, properties: { order_id: 'o1', products: [PRODUCT] }, context: { traits: { email: `${id}@example.com` }, page: { url: 'https://shop.example/c' } } }),
        },
        {
          event: event({ type: 'track', event: 'Order Refunded', userId: `${id}-2`, traits: { email: `${id}@example.com` }, properties: { order_id: 'o2', revenue: 5, url: 'https://shop.example/o2' } }),
        },
        {
          event: event({ type: 'track', event: 'Order Refunded', userId: `${id}-3`, properties: { order_id: 'o3', total: 5, email: `${id}@example.com` } }),
          settings: { productBaseUrl: 'https://shop.example/o' },
        },
        {
          event: event({ type: 'track', event: 'Order Refunded', userId: `${id}-4`, properties: { products: [PRODUCT] } }),
          profiles: [{ id: `${id}-4`, key: 'extid', keys: { email: `${id}-4@example.com` } }],
        },
      ];
    case cartSync:
      return [
        {
          event: event({ type: 'track', event: 'Cart Viewed', userId: id, properties: { products: [PRODUCT] }, context: { traits: { email: `${id}@example.com` }, page: { url: 'https://shop.example/d' } } }),
          settings: { reminderTemplate: 'cart', reminderTime: '60 minutes' },
        },
        {
          event: event({ type: 'track', event: 'Checkout Started', anonymousId: anon, properties: { products: [], email: `${id}@example.com` }, traits: {} }),
        },
        {
          event: event({ type: 'track', event: 'Cart Viewed', userId: `${id}-3`, properties: { products: [PRODUCT] } }),
          profiles: [{ id: `${id}-3`, key: 'extid', keys: { email: `${id}-3@example.com` } }],
        },
      ];
    case productAdded:
      return [
        {
          event: event({ type: 'track', event: 'Product Added', userId: id, properties: PRODUCT, context: { traits: { email: `${id}@example.com` }, page: { url: 'https://shop.example/d' } } }),
          settings: { reminderTemplate: 'cart', reminderTime: '60 minutes' },
        },
        { event: event({ type: 'track', event: 'Product Added', userId: `${id}-2`, properties: PRODUCT, traits: { email: `${id}-2@example.com` } }) },
      ];
    case productRemoved:
      return [
        {
          first: { action: productAdded, event: event({ type: 'track', event: 'Product Added', userId: id, properties: PRODUCT, traits: { email: `${id}@example.com` } }) },
          event: event({ type: 'track', event: 'Product Removed', userId: id, properties: { product_id: 'p1', quantity: 1 }, traits: {}, context: { traits: {} } }),
          profiles: [{ id, key: 'extid', keys: { email: `${id}@example.com` } }],
          settings: { reminderTemplate: 'cart', reminderTime: '60 minutes' },
        },
      ];
    default:
      throw new Error(`no events for ${action.name}`);
  }
}

const ACTIONS: Action[] = [identify, alias, pageView, deleteUser, trackEvent, orderCompleted, orderRefunded, cartSync, productAdded, productRemoved];

describe('what each action declares it reads and sends', () => {
  let emulator: RunningEmulator;
  let client: SailthruClient;
  let base: DestinationSettings;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, ...CREDENTIALS });
    client = new SailthruClient({ apiKey: CREDENTIALS.apiKey, sharedSecret: CREDENTIALS.secret, apiUrl: emulator.url, trackUrl: emulator.url, customerId: CREDENTIALS.customerId });
    base = { apiKey: CREDENTIALS.apiKey, sharedSecret: CREDENTIALS.secret, optoutValue: 'none', deletionFromEvents: 'signed', apiUrl: emulator.url, trackUrl: emulator.url };
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  async function run(action: Action, scenario: Scenario, reads: Set<string>, calls: CallRecord[]): Promise<void> {
    for (const profile of scenario.profiles ?? []) {
      const made = await client.postUser(profile);
      if (!made.ok) throw new Error(`seeding ${JSON.stringify(profile)}: ${made.message}`);
    }
    const settings = { ...base, ...scenario.settings };
    const memory = destinationMemory({}, Date.now);
    const contextOf = (e: SegmentEvent, noted: Set<string>, made: CallRecord[]): ActionContext => {
      const ctx: ActionContext = {
        event: recorded(e, '', noted),
        extid: extidOf(e)!,
        settings,
        eventSettings: recordedEventSettings(resolveEventSettings(e, settings).eventSettings, noted),
        sailthru: recordingPort(client, made),
        memory,
        now: Date.now,
        warn: () => {},
      };
      // The extid deliver works out is the event's userId, else its anonymousId.
      return new Proxy(ctx, {
        get(target, key, receiver) {
          if (key === 'extid') noted.add('userId').add('anonymousId');
          return Reflect.get(target, key, receiver);
        },
      });
    };
    if (scenario.first) await scenario.first.action.perform(contextOf(scenario.first.event, new Set(), []));
    const result = await action.perform(contextOf(scenario.event, reads, calls));
    expect(['delivered', 'skipped'], `${action.name}: ${JSON.stringify(result)}`).toContain(result.state);
  }

  for (const action of ACTIONS) {
    it(action.name, async () => {
      const reads = new Set<string>();
      const calls: CallRecord[] = [];
      for (const scenario of scenarios(action)) await run(action, scenario, reads, calls);
      const declaredReads = action.reads.map(declaredRead);
      const declaredSends = action.sends.map(declaredSend);

      expect([...reads].filter((path) => !covered(path, declaredReads)), 'read but not declared').toEqual([]);
      expect(declaredReads.filter((d) => ![...reads].some((path) => path.replace(/\[\]/g, '') === d || path.replace(/\[\]/g, '').startsWith(`${d}.`))), 'declared but never read').toEqual([]);
      const made = [...new Set(calls.map((c) => `${c.method} ${c.endpoint}`))];
      expect(made.filter((call) => !declaredSends.includes(call)), 'sent but not declared').toEqual([]);
      expect(declaredSends.filter((call) => !made.includes(call)), 'declared but never sent').toEqual([]);
    });
  }

  it('covers every action the routes use', async () => {
    const { routeOf } = await import('../../src/destination/route.ts');
    const types: Array<Partial<SegmentEvent> & Pick<SegmentEvent, 'type'>> = [
      { type: 'identify' },
      { type: 'alias' },
      { type: 'page' },
      { type: 'delete' },
      { type: 'track', event: 'Anything' },
      { type: 'track', event: 'Order Completed' },
      { type: 'track', event: 'Product Added' },
      { type: 'track', event: 'Product Removed' },
      { type: 'track', event: 'Order Refunded' },
      { type: 'track', event: 'Cart Viewed', properties: { products: [] } },
      { type: 'track', event: 'User Deleted' },
    ];
    const routed = new Set(types.map((t) => routeOf(event({ userId: 'u', ...t }))).flatMap((r) => ('action' in r ? [r.action] : [])));
    expect([...routed].every((a) => ACTIONS.includes(a))).toBe(true);
    expect(routed.size).toBe(ACTIONS.length);
  });
});
