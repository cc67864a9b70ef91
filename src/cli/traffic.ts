import { seededRandom } from '../emulator/prng.ts';
import { CATEGORIES, CITIES, CUSTOM_EVENTS, PAGES, PLANS, PRODUCTS, type Product } from './traffic-catalog.ts';
import { People, type Person } from './traffic-people.ts';

/**
 * Realistic Segment traffic for the demo and the benchmarks: a seeded generator that plays a shop
 * of `users` people browsing anonymously, logging in (an identify that merges the anonymousId they
 * browsed with), reading and watching things, filling and emptying carts, and ordering.
 *
 * Deterministic: the same options give the same sequence of events, byte for byte (no clock is
 * read; ingest sets `timestamp` on arrival). The events are Segment wire events, as a client such
 * as analytics-node would post them in a batch.
 */

/** A Segment event as a client sends it (before ingest normalises it). */
export type WireEvent = { type: string; [field: string]: unknown };

/** Shares of each kind of event; they need not add up to 1. */
export interface MixWeights {
  identify: number;
  track: number;
  page: number;
  orderCompleted: number;
  cart: number;
}

/** The benchmarks' standard mix (DESIGN.md / bench): per 100 events. */
export const STANDARD_WEIGHTS: Readonly<MixWeights> = { identify: 25, track: 45, page: 10, orderCompleted: 5, cart: 15 };

export interface MixOptions {
  /** default 1 */
  seed?: number;
  /** People in the shop. default 2000 */
  users?: number;
  /** messageIds are `<prefix>-<n>`. default `mix-<seed>` */
  messageIdPrefix?: string;
  /**
   * Share (0..1) of deliberately bad events: no ids, a track without a name (both refused at
   * ingest), a reserved Sailthru event name, a page without URL and a guest order without email
   * (dead letters at delivery). default 0
   */
  badEventShare?: number;
  weights?: MixWeights;
}

/** Of the identify events, the share that are first logins merging an anonymousId. */
const MERGE_SHARE = 0.2;
/** Of the Order Completed events, the share that carry context.traits.email. */
const ORDER_EMAIL_SHARE = 0.5;
/** Of the cart events, the share with per-event reminder overrides (integrations.Sailthru). */
const REMINDER_OVERRIDE_SHARE = 0.25;

type EventKind = keyof MixWeights;

export class TrafficGenerator implements Iterable<WireEvent> {
  private readonly random: () => number;
  private readonly people: People;
  private readonly prefix: string;
  private readonly seed: number;
  private readonly badShare: number;
  private readonly kinds: Array<[EventKind, number]>;
  private readonly totalWeight: number;
  private produced = 0;
  private orders = 0;
  private bad = 0;

  constructor(options: MixOptions = {}) {
    this.seed = options.seed ?? 1;
    const users = options.users ?? 2000;
    if (!Number.isInteger(users) || users < 1) throw new RangeError('users must be a whole number of at least 1');
    this.random = seededRandom(this.seed);
    this.prefix = options.messageIdPrefix ?? `mix-${this.seed}`;
    this.badShare = Math.min(Math.max(options.badEventShare ?? 0, 0), 1);
    const weights = options.weights ?? STANDARD_WEIGHTS;
    this.kinds = (Object.entries(weights) as Array<[EventKind, number]>).filter(([, w]) => w > 0);
    this.totalWeight = this.kinds.reduce((sum, [, w]) => sum + w, 0);
    if (this.totalWeight <= 0) throw new RangeError('at least one weight must be positive');
    this.people = new People(users, this.seed, this.random);
  }

  /** Events produced so far. */
  get count(): number {
    return this.produced;
  }

  nextEvent(): WireEvent {
    const event = this.random() < this.badShare ? this.badEvent() : this.goodEvent(this.drawKind());
    this.produced++;
    event.messageId = `${this.prefix}-${this.produced}`;
    return event;
  }

  take(n: number): WireEvent[] {
    const out: WireEvent[] = [];
    for (let i = 0; i < n; i++) out.push(this.nextEvent());
    return out;
  }

  *[Symbol.iterator](): Iterator<WireEvent> {
    for (;;) yield this.nextEvent();
  }

  private drawKind(): EventKind {
    let r = this.random() * this.totalWeight;
    for (const [kind, weight] of this.kinds) {
      r -= weight;
      if (r < 0) return kind;
    }
    return (this.kinds[this.kinds.length - 1] as [EventKind, number])[0];
  }

  private goodEvent(kind: EventKind): WireEvent {
    switch (kind) {
      case 'identify':
        return this.random() < MERGE_SHARE ? this.login() : this.reidentify();
      case 'track':
        return this.customEvent(this.people.anyone());
      case 'page':
        return this.pageView(this.people.anyone());
      case 'orderCompleted':
        return this.order();
      case 'cart':
        return this.cartChange();
    }
  }

  // --- drawing ------------------------------------------------------------------------------

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  // --- identify -----------------------------------------------------------------------------

  /** A first login on this device: the identify merges the anonymousId browsed with. */
  private login(): WireEvent {
    const i = this.people.loggedOut.pick(this.random);
    if (i === undefined) {
      // Everyone is logged in: someone arrives on a new device.
      const p = this.people.anyone();
      p.session++;
      this.people.setLoggedIn(p, false);
      return this.login();
    }
    const p = this.people.person(i);
    const anonymousId = this.people.anonymousIdOf(p);
    this.people.setLoggedIn(p, true);
    const [city, country] = this.pick(CITIES);
    const firstTime = !p.identified;
    p.identified = true;
    this.people.identified.add(p.index);
    this.people.someoneLeaves(p);
    return {
      type: 'identify',
      userId: p.userId,
      anonymousId,
      traits: {
        email: p.email,
        firstName: p.firstName,
        lastName: p.lastName,
        plan: this.pick(PLANS),
        ...(firstTime ? { createdAt: `2024-0${1 + (p.index % 9)}-1${p.index % 10}T09:30:00.000Z` } : {}),
        address: { city, country },
      },
      context: { ip: `203.0.113.${1 + (p.index % 250)}`, locale: 'en-US' },
    };
  }

  /** A logged-in person's traits change (plan, points, preferences). */
  private reidentify(): WireEvent {
    const i = this.people.loggedIn.pick(this.random);
    if (i === undefined) return this.login();
    const p = this.people.person(i);
    return {
      type: 'identify',
      userId: p.userId,
      anonymousId: this.people.anonymousIdOf(p),
      traits: {
        plan: this.pick(PLANS),
        loyaltyPoints: this.int(0, 5000),
        preferences: { newsletter: this.random() < 0.7, categories: [this.pick(CATEGORIES), this.pick(CATEGORIES)] },
        ...(this.random() < 0.3 ? { email: p.email } : {}),
      },
    };
  }

  // --- browsing -----------------------------------------------------------------------------

  private customEvent(p: Person): WireEvent {
    const name = this.pick(CUSTOM_EVENTS);
    const product = this.pick(PRODUCTS);
    const properties: Record<string, unknown> = (() => {
      switch (name) {
        case 'Products Searched':
          return { query: this.pick(['rain jacket', 'socks', 'trail shoes', 'tote']), results: this.int(0, 40) };
        case 'Article Read':
          return { title: 'Packing Light', section: 'journal', readingTime: { minutes: this.int(2, 9) } };
        case 'Video Played':
          return { video: { id: `vid-${this.int(1, 20)}`, title: 'How it is made' }, position: this.int(0, 120) };
        case 'Wishlist Product Added':
          return { product_id: product.product_id, name: product.name, price: product.price };
        case 'Coupon Entered':
          return { coupon_id: this.pick(['SPRING10', 'WELCOME', 'FREESHIP']), cart_value: this.int(20, 300) };
        default:
          return { product_id: product.product_id, rating: this.int(1, 5), tags: ['verified', product.category] };
      }
    })();
    return { type: 'track', ...this.people.ids(p), event: name, properties };
  }

  private pageView(p: Person): WireEvent {
    const [name, path, keywords] = this.pick(PAGES);
    const url = `https://shop.example.com${path}`;
    return {
      type: 'page',
      ...this.people.ids(p),
      name,
      properties: { url, path, title: `${name} | Example Shop`, ...(keywords.length > 0 ? { keywords } : {}) },
      context: { page: { url, path, referrer: 'https://www.example.org/' }, userAgent: 'Mozilla/5.0 (demo)' },
    };
  }

  // --- carts and orders ---------------------------------------------------------------------

  private productProperties(product: Product, quantity: number): Record<string, unknown> {
    return { ...product, quantity };
  }

  /** Product Added / Removed: a logged-in person Sailthru has an email for (SPEC.md §6). */
  private cartChange(): WireEvent {
    const i = this.people.loggedIn.pick(this.random);
    const p = i === undefined ? undefined : this.people.person(i);
    if (p === undefined || !p.identified) return this.login();
    const inCart = [...p.cart.keys()];
    const removing = inCart.length > 0 && this.random() < 1 / 3;
    let event: string;
    let properties: Record<string, unknown>;
    if (removing) {
      const id = this.pick(inCart);
      const product = PRODUCTS.find((x) => x.product_id === id) as Product;
      const have = p.cart.get(id) as number;
      const quantity = this.int(1, have);
      if (quantity >= have) p.cart.delete(id);
      else p.cart.set(id, have - quantity);
      event = 'Product Removed';
      properties = this.productProperties(product, quantity);
    } else {
      const product = this.pick(PRODUCTS);
      const quantity = this.int(1, 2);
      p.cart.set(product.product_id, (p.cart.get(product.product_id) ?? 0) + quantity);
      event = 'Product Added';
      properties = this.productProperties(product, quantity);
    }
    const wire: WireEvent = { type: 'track', userId: p.userId, anonymousId: this.people.anonymousIdOf(p), event, properties };
    if (this.random() < REMINDER_OVERRIDE_SHARE) {
      wire.integrations = { Sailthru: { reminder_template: 'abandoned-cart-vip', reminder_time: '2 hours' } };
    }
    return wire;
  }

  private order(): WireEvent {
    this.orders++;
    const withEmail = this.random() < ORDER_EMAIL_SHARE;
    let p: Person;
    if (withEmail) {
      p = this.people.anyone();
    } else {
      const i = this.people.identified.pick(this.random);
      // Nobody has given an email yet: this order carries one.
      p = i === undefined ? this.people.anyone() : this.people.person(i);
    }
    const emailInEvent = withEmail || !p.identified;
    const lines: Array<[Product, number]> =
      p.cart.size > 0
        ? [...p.cart.entries()].map(([id, qty]) => [PRODUCTS.find((x) => x.product_id === id) as Product, qty])
        : Array.from({ length: this.int(1, 3) }, () => [this.pick(PRODUCTS), this.int(1, 2)] as [Product, number]);
    // Sailthru empties the profile's cart on a completed purchase.
    p.cart.clear();
    const subtotal = lines.reduce((sum, [product, qty]) => sum + product.price * qty, 0);
    const shipping = subtotal > 100 ? 0 : 4.95;
    const discount = this.random() < 0.2 ? 10 : 0;
    const tax = Math.round(subtotal * 0.08 * 100) / 100;
    const total = Math.round((subtotal + shipping + tax - discount) * 100) / 100;
    // Someone Sailthru knows orders under their userId, in the lane of their cart; a stranger
    // checks out as a guest with an email.
    const ids = p.identified ? { userId: p.userId, anonymousId: this.people.anonymousIdOf(p) } : { anonymousId: this.people.anonymousIdOf(p) };
    return {
      type: 'track',
      ...ids,
      event: 'Order Completed',
      properties: {
        order_id: `${this.prefix}-order-${this.orders}`,
        total,
        revenue: Math.round(subtotal * 100) / 100,
        shipping,
        tax,
        ...(discount > 0 ? { discount, coupon: 'SPRING10' } : {}),
        currency: 'USD',
        products: lines.map(([product, qty]) => this.productProperties(product, qty)),
      },
      ...(emailInEvent ? { context: { traits: { email: p.email } } } : {}),
    };
  }

  // --- mistakes -------------------------------------------------------------------------------

  /** One of the mistakes real integrations make, in turn, so each shows up in a short run. */
  private badEvent(): WireEvent {
    const p = this.people.anyone();
    const kind = this.bad++ % 5;
    switch (kind) {
      case 0: // refused at ingest: neither userId nor anonymousId
        return { type: 'track', event: 'Signed Up', properties: { source: 'legacy-form' } };
      case 1: // refused at ingest: a track without its event name
        return { type: 'track', userId: p.userId, properties: { note: 'event name forgotten' } };
      case 2: // dead letter: Sailthru reserves this event name
        return { type: 'track', ...this.people.ids(p), event: 'send', properties: { campaign: 'spring' } };
      case 3: // dead letter: a page without any URL
        return { type: 'page', ...this.people.ids(p), name: 'Checkout' };
      default: // dead letter: a guest order Sailthru has no email for
        return {
          type: 'track',
          anonymousId: `guest-${this.seed}-${this.bad}`,
          event: 'Order Completed',
          properties: { order_id: `${this.prefix}-guest-${this.bad}`, total: 24.95, products: [this.productProperties(this.pick(PRODUCTS), 1)] },
        };
    }
  }
}

/**
 * The benchmarks' standard mix over `users` people (default 2000): 25% identify (a fifth of them
 * first logins merging an anonymousId), 45% custom track, 10% page, 5% Order Completed (half with
 * context.traits.email), 15% Product Added/Removed.
 */
export function standardMix(options: Omit<MixOptions, 'weights' | 'badEventShare'> = {}): TrafficGenerator {
  return new TrafficGenerator({ ...options, weights: STANDARD_WEIGHTS, badEventShare: 0 });
}

/** The demo's traffic: the standard mix with 2% of the mistakes real integrations make. */
export function demoMix(options: Omit<MixOptions, 'weights'> = {}): TrafficGenerator {
  return new TrafficGenerator({ badEventShare: 0.02, ...options, weights: STANDARD_WEIGHTS });
}
