/**
 * The pure mapping functions, with the input → expected cases of reference/sailthru-api.md §4
 * (Astro's tests) that SPEC.md keeps. Where SPEC.md decided otherwise, the test pins SPEC.md and
 * says so.
 */
import { describe, expect, it } from 'vitest';
import { addToCart, cartFromStored, cartPurchasePayload, emptyCart, remindersOf, removeFromCart } from '../../src/destination/cart.ts';
import { reminderTimeOf } from '../../src/destination/reminder-time.ts';
import { flatten } from '../../src/destination/flatten.ts';
import { eventEmailOf, extidOf } from '../../src/destination/identity.ts';
import { adjustmentsOf, cents, itemFromProduct, productIdOf, type PurchaseItem } from '../../src/destination/products.ts';
import { completedPurchasePayload } from '../../src/destination/actions/order-completed.ts';
import { pageViewBody } from '../../src/destination/actions/page-view.ts';
import { customEventPayload } from '../../src/destination/actions/track-event.ts';
import { identifyPayload } from '../../src/destination/actions/identify.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';

const track = (fields: Partial<SegmentEvent>): SegmentEvent => ({ type: 'track', messageId: 'm', userId: 'u', ...fields });

const PRODUCT_LIST_VIEWED_0 = {
  product_id: '507f1f77bcf86cd799439011',
  sku: '45790-32',
  name: 'Monopoly: 3rd Edition',
  price: 19,
  position: 1,
  category: 'Games',
  url: 'https://www.example.com/product/path',
  image_url: 'https://www.example.com/product/path.jpg',
  image_url_thumb: 'https://www.example.com/product/path/thumb.jpg',
};
const PRODUCT_VIEWED = {
  product_id: '507f1f77bcf86cd799439011',
  sku: 'G-32',
  category: 'Games',
  name: 'Monopoly: 3rd Edition',
  brand: 'Hasbro',
  variant: '200 pieces',
  price: 18.99,
  quantity: 1,
  coupon: 'MAYDEALS',
  currency: 'usd',
  position: 3,
  value: 18.99,
  url: 'https://www.example.com/product/path',
};

describe('Astro helper cases', () => {
  it('getProductId: product_id → id → sku, none for an order without top-level ids', () => {
    expect(productIdOf({ order_id: 'o', products: [] })).toBeUndefined();
    expect(productIdOf(PRODUCT_VIEWED)).toBe('507f1f77bcf86cd799439011');
    expect(productIdOf({ id: 'id_2', sku: 'sku_2' })).toBe('id_2');
    expect(productIdOf({ sku: 'sku_3' })).toBe('sku_3');
  });

  it('getOrderId: order_id becomes purchase_keys.extid, absent when there is none', () => {
    const withId = completedPurchasePayload(track({ properties: { order_id: '50314b8e9bcf000000000000', products: [PRODUCT_VIEWED] } }), {}, undefined);
    const without = completedPurchasePayload(track({ properties: { products: [PRODUCT_VIEWED] } }), {}, undefined);
    expect(withId.ok && withId.value.purchase_keys).toEqual({ extid: '50314b8e9bcf000000000000' });
    expect(without.ok && without.value).not.toHaveProperty('purchase_keys');
  });

  it('getEmail: properties.email', () => {
    expect(eventEmailOf(track({ properties: { email: 'ade@telepat.io' } }))).toBe('ade@telepat.io');
  });

  it('getProductDetails: Product List Viewed products[0]', () => {
    const mapped = itemFromProduct(PRODUCT_LIST_VIEWED_0, { label: 'products[0]' });
    expect(mapped).toEqual({
      ok: true,
      warnings: [],
      item: {
        id: '507f1f77bcf86cd799439011',
        title: 'Monopoly: 3rd Edition',
        qty: 1,
        price: 1900,
        url: 'https://www.example.com/product/path',
        images: { full: { url: 'https://www.example.com/product/path.jpg' }, thumb: { url: 'https://www.example.com/product/path/thumb.jpg' } },
        vars: { sku: '45790-32', position: 1, category: 'Games' },
      },
    });
  });

  it('getProductDetails: Product Viewed', () => {
    const mapped = itemFromProduct(PRODUCT_VIEWED, { label: 'properties' });
    expect(mapped.ok).toBe(true);
    if (!mapped.ok) return;
    expect(mapped.item).toMatchObject({ price: 1899, qty: 1 });
    expect(mapped.item.vars).toMatchObject({ position: 3, sku: 'G-32', brand: 'Hasbro', variant: '200 pieces', coupon: 'MAYDEALS' });
  });

  it('formatPrice: 19.99 → 1999; numeric strings accepted; half-cents round as written', () => {
    expect(cents(19.99)).toBe(1999);
    expect(cents(19)).toBe(1900);
    expect(cents(18.99)).toBe(1899);
    expect(cents(1.005)).toBe(101);
    expect(cents(-2.5)).toBe(-250);
    const fromText = itemFromProduct({ id: 'p', price: '19.99', url: 'https://x' }, { label: 'p' });
    expect(fromText.ok && fromText.item.price).toBe(1999);
    const missing = itemFromProduct({ id: 'p', url: 'https://x' }, { label: 'p' });
    expect(missing.ok && missing.item.price).toBe(0);
    expect(missing.warnings).toEqual(['p has no price; 0 sent']);
  });

  it('getProductURL: own url, then context.page.url, then productBaseUrl + "/" + id', () => {
    const ctx = { label: 'properties' };
    const own = itemFromProduct({ product_id: '507f1f77bcf86cd799439011', url: 'https://own' }, { ...ctx, pageUrl: 'http://url.com/' });
    expect(own.ok && own.item.url).toBe('https://own');
    // SPEC.md §5.1 takes context.page.url as it is (Astro appended the id to it).
    const page = itemFromProduct({ product_id: '507f1f77bcf86cd799439011' }, { ...ctx, pageUrl: 'http://url.com/' });
    expect(page.ok && page.item.url).toBe('http://url.com/');
    const base = itemFromProduct({ product_id: '507f1f77bcf86cd799439011' }, { ...ctx, productBaseUrl: 'http://url.com' });
    expect(base.ok && base.item.url).toBe('http://url.com/507f1f77bcf86cd799439011');
    const none = itemFromProduct({ product_id: 'x' }, ctx);
    expect(none).toMatchObject({ ok: false, missing: 'url' });
  });

  it('getUrl (page): properties.url, else context.page.url', () => {
    const clicked = pageViewBody({ type: 'page', messageId: 'm', userId: 'u', properties: { url: 'http://clicked.com' } }, 'c');
    const context = pageViewBody({ type: 'page', messageId: 'm', userId: 'u', context: { page: { url: 'http://myurl.com' } } }, 'c');
    expect(clicked.ok && clicked.value.url).toBe('http://clicked.com');
    expect(context.ok && context.value.url).toBe('http://myurl.com');
  });

  it('getUserId: userId, else anonymousId', () => {
    expect(extidOf({ type: 'track', messageId: 'm', userId: '1234567890' })).toBe('1234567890');
    expect(extidOf({ type: 'track', messageId: 'm', anonymousId: '1234567890' })).toBe('1234567890');
    expect(extidOf({ type: 'track', messageId: 'm', userId: '', anonymousId: 'a' })).toBe('a');
  });

  it('getReminderTime: "+" prefixed exactly once', () => {
    expect(reminderTimeOf('5 minutes')).toBe('+5 minutes');
    // SPEC.md §6: one grammar; `m` (minutes or months?) is not in it.
    expect(reminderTimeOf('10m')).toBeUndefined();
    expect(reminderTimeOf('+20 minutes')).toBe('+20 minutes');
    expect(reminderTimeOf(' ++ 2 hours')).toBe('+2 hours');
    expect(remindersOf('tpl', undefined)).toEqual({ warning: 'reminderTemplate is set but reminderTime is not; no reminder sent' });
    expect(remindersOf(undefined, '1 hour')).toEqual({ warning: 'reminderTime is set but reminderTemplate is not; no reminder sent' });
    expect(remindersOf(undefined, undefined)).toEqual({});
  });

  describe('getUpdatedChart', () => {
    const item = (id: string, qty = 1): PurchaseItem => ({ id, title: id, qty, price: 100, url: `https://x/${id}` });
    const oneItem = { ...emptyCart(), items: [item('a')] };

    it('add a new product to a 1-item cart → 2 items', () => {
      expect(addToCart(oneItem, item('b')).items.map((i) => i.id)).toEqual(['a', 'b']);
    });
    it('remove the existing product (qty 1) → 0 items', () => {
      const r = removeFromCart(oneItem, 'a', 1);
      expect(r.kind === 'removed' && r.cart.items).toEqual([]);
    });
    it('remove a product not in the cart → SPEC.md §6: skipped (the cart is left as it is)', () => {
      expect(removeFromCart(oneItem, 'zzz', 1)).toEqual({ kind: 'not-in-cart' });
      expect(oneItem.items[0]?.qty).toBe(1);
    });
    it('add an existing product (1 + 1) → qty 2', () => {
      expect(addToCart(oneItem, item('a')).items).toEqual([{ ...item('a'), qty: 2 }]);
      expect(oneItem.items[0]?.qty).toBe(1);
    });
    it('remove from a qty-2 cart → 1 item, qty 1', () => {
      const r = removeFromCart({ ...emptyCart(), items: [item('a', 2)] }, 'a', 1);
      expect(r.kind === 'removed' && r.cart.items).toEqual([item('a', 1)]);
    });
    it('remove from an empty cart → the seed error (SPEC.md §6; Astro posted items: [])', () => {
      expect(removeFromCart(emptyCart(), 'a', 1)).toEqual({ kind: 'cart-empty' });
    });
  });

  it('generateEmptyChart: items [], incomplete 1', () => {
    expect(cartPurchasePayload('e@x.com', emptyCart(), undefined, undefined)).toEqual({ email: 'e@x.com', incomplete: 1, items: [] });
  });

  it('processSailthruObject: SPEC.md §8 keeps null (it clears a var) and drops empty objects and arrays', () => {
    expect(flatten({ undefinedField: undefined, nullField: null, field: '1', nestedNull: { nullField: null, field: '2' } }).vars).toEqual({
      nullField: null,
      field: '1',
      nestedNull_nullField: null,
      nestedNull_field: '2',
    });
    expect(flatten({ emptyObject: {}, emptyNested: { empty: {} }, emptyAfterRemoving: { x: undefined } }).vars).toEqual({});
    expect(flatten({ emptyArray: [], emptyAfterRemoving: [{}, { obj: {} }] }).vars).toEqual({});
  });
});

describe('stored cart normalisation (SPEC.md §6)', () => {
  it('turns GET /user images.full strings into {url}, keeps purchase vars and adjustments, drops id-less items', () => {
    const { cart, warnings } = cartFromStored({
      chnl: 'online',
      time: 'Thu, 21 Feb 2019 08:33:46 -0500',
      qty: 1,
      price: 1899,
      items: [
        { id: 'p1', qty: 1, title: 'T', price: 1899, url: 'https://x/p1', images: { full: 'https://img/p1.jpg' }, vars: { size: 'M' } },
        { qty: 1, price: 1 },
      ],
      vars: { segment_last_message_id: 'old', campaign: 'spring' },
      adjustments: [{ title: 'tax', price: 100 }],
      _id: 'x',
    });
    expect(cart).toEqual({
      items: [{ id: 'p1', qty: 1, title: 'T', price: 1899, url: 'https://x/p1', images: { full: { url: 'https://img/p1.jpg' } }, vars: { size: 'M' } }],
      vars: { segment_last_message_id: 'old', campaign: 'spring' },
      adjustments: [{ title: 'tax', price: 100 }],
    });
    expect(warnings).toEqual(['stored cart item 1 dropped: it has no id']);
    expect(cartPurchasePayload('e@x.com', cart, 'new', undefined)).toMatchObject({
      adjustments: [{ title: 'tax', price: 100 }],
      vars: { campaign: 'spring', segment_last_message_id: 'new' },
    });
  });

  it('gives an empty cart for null, missing or malformed purchase_incomplete', () => {
    for (const stored of [null, undefined, [], 'x', { items: 'nope' }]) expect(cartFromStored(stored).cart).toEqual(emptyCart());
  });
});

describe('adjustments (SPEC.md §5.2)', () => {
  it('tax and shipping positive, discount negative, in that order, only when non-zero', () => {
    expect(adjustmentsOf({ discount: 2.5, shipping: 3, tax: 2 }).adjustments).toEqual([
      { title: 'tax', price: 200 },
      { title: 'shipping', price: 300 },
      { title: 'discount', price: -250 },
    ]);
    expect(adjustmentsOf({ tax: 0, shipping: '0', discount: -5 }).adjustments).toEqual([{ title: 'discount', price: -500 }]);
  });
  it('drops malformed given adjustments with a warning', () => {
    const { adjustments, warnings } = adjustmentsOf({ adjustments: [{ title: 'ok', price: '1.5' }, { title: 'bad' }, 7] });
    expect(adjustments).toEqual([{ title: 'ok', price: 150 }]);
    expect(warnings).toHaveLength(2);
  });
});

describe('identify traits (SPEC.md §2.1)', () => {
  it('are context.traits overlaid by traits, key by key, so RudderStack identify traits become vars', () => {
    const onlyContext = identifyPayload(
      { type: 'identify', messageId: 'm', userId: 'u', context: { traits: { email: 'rs@example.com', plan: 'team', seats: 3 } } },
      {},
    );
    expect(onlyContext.payload).toMatchObject({ keys: { email: 'rs@example.com' }, vars: { plan: 'team', seats: 3 } });
    const both = identifyPayload(
      {
        type: 'identify',
        messageId: 'm',
        userId: 'u',
        traits: { plan: 'pro', address: { city: 'Paris' } },
        context: { traits: { plan: 'team', seats: 3, address: { city: 'Lyon', zip: '69001' } } },
      },
      {},
    );
    // The top-level value wins whole: no address made of two addresses.
    expect(both.payload.vars).toEqual({ plan: 'pro', seats: 3, address_city: 'Paris' });
  });
});

describe('payload builders keep input away from prototypes', () => {
  it('a list named __proto__ stays a list name', () => {
    const { payload } = identifyPayload({ type: 'identify', messageId: 'm', userId: 'u' }, { listName: '__proto__' });
    expect(JSON.stringify(payload.lists)).toBe('{"__proto__":1}');
    expect(({} as Record<string, unknown>)[1]).toBeUndefined();
  });
  it('custom event payloads are plain JSON', () => {
    const mapped = customEventPayload(track({ event: 'E', properties: JSON.parse('{"__proto__":{"x":1},"a":{"b":[1]}}') }));
    expect(mapped.ok && JSON.stringify(mapped.value)).toBe('{"id":"u","key":"extid","event":"E","vars":{"a_b_0":1}}');
  });
});
