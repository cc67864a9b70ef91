import type { SailthruStoredCart } from '../sailthru/types.ts';
import type { FlatValue } from './flatten.ts';
import type { Adjustment, PurchaseItem } from './products.ts';
import { field, numberOf, objectOf, omitKeys, preview, stringOf, textOf, type JsonObject } from './read.ts';
import { reminderTimeOf } from './reminder-time.ts';

/**
 * The abandoned-cart arithmetic of SPEC.md §6, as pure functions over a cart value. Sailthru keeps
 * one incomplete purchase per user and every POST replaces it, so the destination always rebuilds
 * and posts the whole cart.
 */
export interface Cart {
  items: PurchaseItem[];
  /** Purchase-level vars, kept across updates; carries the exactly-once marker. */
  vars: { [key: string]: unknown };
  adjustments: Adjustment[];
}

/** Purchase-level var naming the messageId of the last change applied to the cart. */
export const LAST_MESSAGE_ID_VAR = 'segment_last_message_id';

export function emptyCart(): Cart {
  return { items: [], vars: {}, adjustments: [] };
}

/**
 * Whether the stored cart already carries this event's change (a retry after a POST that landed):
 * in its purchase-level vars, or in the vars of an item (SPEC.md §6: Sailthru documents item vars
 * as returned, purchase-level ones not).
 */
export function alreadyApplied(stored: unknown, messageId: string): boolean {
  const cart = objectOf(stored);
  if (field(objectOf(field(cart, 'vars')), LAST_MESSAGE_ID_VAR) === messageId) return true;
  const items = field(cart, 'items');
  return Array.isArray(items) && items.some((item) => field(objectOf(field(objectOf(item), 'vars')), LAST_MESSAGE_ID_VAR) === messageId);
}

/**
 * The change's marker in the vars of the item it touched. A removal that dropped the item leaves
 * nowhere to put it, and needs none: its retry finds the product gone and skips.
 */
export function markTouchedItem(cart: Cart, id: string, messageId: string): Cart {
  return {
    ...cart,
    items: cart.items.map((item) => (item.id === id ? { ...item, vars: { ...item.vars, [LAST_MESSAGE_ID_VAR]: messageId } } : item)),
  };
}

/** A stored cart older than `expiryHours` counts as empty (SPEC.md §6). */
export function isExpired(stored: unknown, nowMs: number, expiryHours: number | undefined): boolean {
  if (expiryHours === undefined) return false;
  const time = stringOf(field(objectOf(stored), 'time'));
  if (time === undefined) return false;
  const at = Date.parse(time);
  return Number.isFinite(at) && nowMs - at > expiryHours * 3_600_000;
}

/**
 * The cart as GET /user returned it, in the shape POST /purchase takes: `images.full` comes back
 * as a plain URL string and must go out as `{url}`. Items without an id cannot be matched or
 * posted and are dropped.
 */
export function cartFromStored(stored: SailthruStoredCart | null | undefined | unknown): { cart: Cart; warnings: string[] } {
  const warnings: string[] = [];
  const cart = emptyCart();
  const source = objectOf(stored);
  if (source === undefined) return { cart, warnings };
  const items = field(source, 'items');
  if (Array.isArray(items)) {
    items.forEach((raw, index) => {
      const item = storedItem(objectOf(raw));
      if (item === undefined) warnings.push(`stored cart item ${index} dropped: it has no id`);
      else cart.items.push(item);
    });
  }
  cart.vars = omitKeys(objectOf(field(source, 'vars')), []);
  const adjustments = field(source, 'adjustments');
  if (Array.isArray(adjustments)) {
    for (const raw of adjustments) {
      const a = objectOf(raw);
      const title = textOf(field(a, 'title'));
      const price = numberOf(field(a, 'price'));
      if (title !== undefined && price !== undefined) cart.adjustments.push({ title, price: Math.round(price) });
    }
  }
  return { cart, warnings };
}

function storedItem(raw: JsonObject | undefined): PurchaseItem | undefined {
  const id = textOf(field(raw, 'id'));
  if (id === undefined) return undefined;
  const qty = numberOf(field(raw, 'qty'));
  const price = numberOf(field(raw, 'price'));
  const item: PurchaseItem = {
    id,
    title: textOf(field(raw, 'title')) ?? '',
    qty: qty === undefined ? 1 : Math.round(qty),
    // Stored prices are already integer cents.
    price: price === undefined ? 0 : Math.round(price),
  };
  const url = stringOf(field(raw, 'url'));
  if (url !== undefined) item.url = url;
  const tags = field(raw, 'tags');
  if (typeof tags === 'string' && tags !== '') item.tags = tags;
  else if (Array.isArray(tags)) item.tags = tags.filter((t): t is string => typeof t === 'string');
  const images = objectOf(field(raw, 'images'));
  const full = imageUrl(field(images, 'full'));
  const thumb = imageUrl(field(images, 'thumb'));
  if (full !== undefined || thumb !== undefined) {
    item.images = {};
    if (full !== undefined) item.images.full = { url: full };
    if (thumb !== undefined) item.images.thumb = { url: thumb };
  }
  const vars = objectOf(field(raw, 'vars'));
  if (vars !== undefined && Object.keys(vars).length > 0) item.vars = omitKeys(vars, []) as { [key: string]: FlatValue };
  return item;
}

function imageUrl(value: unknown): string | undefined {
  return stringOf(value) ?? stringOf(field(objectOf(value), 'url'));
}

/**
 * Product Added: same id → qty grows and the item takes the event's title, price, url, images
 * and vars (the reminder shows today's price, SPEC.md §6); otherwise appended. Fields the event
 * does not carry (no image, say) keep what the cart had.
 */
export function addToCart(cart: Cart, item: PurchaseItem): Cart {
  const index = cart.items.findIndex((existing) => existing.id === item.id);
  if (index === -1) return { ...cart, items: [...cart.items, item] };
  const items = cart.items.map((existing, i) => (i === index ? { ...existing, ...item, qty: existing.qty + item.qty } : existing));
  return { ...cart, items };
}

export type Removal =
  | { kind: 'removed'; cart: Cart }
  /** The fetched cart has no items: the seed's error. */
  | { kind: 'cart-empty' }
  | { kind: 'not-in-cart' };

/** Product Removed: qty shrinks by `qty`; at ≤ 0 the item leaves the cart. */
export function removeFromCart(cart: Cart, id: string, qty: number): Removal {
  if (cart.items.length === 0) return { kind: 'cart-empty' };
  const index = cart.items.findIndex((existing) => existing.id === id);
  if (index === -1) return { kind: 'not-in-cart' };
  const items: PurchaseItem[] = [];
  cart.items.forEach((existing, i) => {
    if (i !== index) items.push(existing);
    else if (existing.qty - qty > 0) items.push({ ...existing, qty: existing.qty - qty });
  });
  return { kind: 'removed', cart: { ...cart, items } };
}

/**
 * Reminder template and time go together or not at all (SPEC.md §6). A time that is not a
 * reminder time even after spelling out abbreviations (reminder-time.ts) is dropped with a warning
 * and the cart is posted without a reminder, rather than failing the whole cart change.
 */
export function remindersOf(
  template: string | undefined,
  time: string | undefined,
): { fields?: { reminder_template: string; reminder_time: string }; warning?: string } {
  if (template !== undefined && time !== undefined) {
    const reminderTime = reminderTimeOf(time);
    if (reminderTime === undefined) {
      return {
        warning: `reminder time ${preview(time)} is not a relative time such as "60 minutes", "24 hours" or "1 hour 30 minutes"; no reminder sent`,
      };
    }
    return { fields: { reminder_template: template, reminder_time: reminderTime } };
  }
  if (template !== undefined) return { warning: 'reminderTemplate is set but reminderTime is not; no reminder sent' };
  if (time !== undefined) return { warning: 'reminderTime is set but reminderTemplate is not; no reminder sent' };
  return {};
}

/** The POST /purchase payload for a cart (SPEC.md §6), marked with the change's messageId. */
export function cartPurchasePayload(
  email: string,
  cart: Cart,
  messageId: string | undefined,
  reminders: { reminder_template: string; reminder_time: string } | undefined,
): JsonObject {
  const payload: JsonObject = { email, incomplete: 1, items: cart.items };
  if (cart.adjustments.length > 0) payload.adjustments = cart.adjustments;
  // An emptied cart needs no reminder; Sailthru unschedules it when the cart is cleared.
  if (reminders !== undefined && cart.items.length > 0) {
    payload.reminder_template = reminders.reminder_template;
    payload.reminder_time = reminders.reminder_time;
  }
  const vars = omitKeys(cart.vars, [LAST_MESSAGE_ID_VAR]);
  if (messageId !== undefined) vars[LAST_MESSAGE_ID_VAR] = messageId;
  if (Object.keys(vars).length > 0) payload.vars = vars;
  return payload;
}
