import { parseSailthruTime, rfc2822 } from '../dates.ts';
import { reminderDelayMs } from '../reminder-time.ts';
import { isPlainObject, isTruthyFlag, optionalObject, optionalText, requiredText, type Payload } from '../payload.ts';
import { isValidEmail } from '../profiles.ts';
import type { Adjustment, PurchaseRecord, StoredCart, StoredItem } from '../records.ts';
import { invalidEmail, invalidTime, missingParameter, otherError } from '../sailthru-error.ts';
import type { EndpointContext } from './context.ts';

/** Accepts `{url}` (what clients post) or a plain string (what GET /user returns); stores the string. */
function imageUrl(value: unknown, itemId: string, which: string): string {
  if (typeof value === 'string') return value;
  if (isPlainObject(value) && typeof value.url === 'string') return value.url;
  throw otherError(`Invalid images.${which} for item ${itemId}: expected {"url": "..."}`);
}

function checkItem(raw: unknown, index: number): StoredItem {
  if (!isPlainObject(raw)) throw otherError(`Invalid item ${index}: expected an object`);
  const id = raw.id;
  if ((typeof id !== 'string' || id === '') && typeof id !== 'number') throw otherError(`Item ${index} has no id`);
  const itemId = String(id);
  const qty = raw.qty;
  if (typeof qty !== 'number' || !Number.isInteger(qty) || qty < 1) {
    throw otherError(`Invalid qty for item ${itemId}: ${JSON.stringify(qty)} (must be a positive integer)`);
  }
  const price = raw.price;
  if (typeof price !== 'number' || !Number.isInteger(price)) {
    throw otherError(`Invalid price for item ${itemId}: ${JSON.stringify(price)} (must be an integer number of cents)`);
  }
  if (typeof raw.url !== 'string' || raw.url === '') throw otherError(`Item ${itemId} has no url`);
  if (raw.title !== undefined && typeof raw.title !== 'string') throw otherError(`Invalid title for item ${itemId}`);
  const item: StoredItem = { id: itemId, qty, title: raw.title ?? '', price, url: raw.url };
  if (raw.tags !== undefined) {
    if (typeof raw.tags === 'string') item.tags = raw.tags.split(',').map((t) => t.trim()).filter(Boolean);
    else if (Array.isArray(raw.tags)) item.tags = raw.tags.map(String);
    else throw otherError(`Invalid tags for item ${itemId}`);
  }
  if (raw.images !== undefined) {
    if (!isPlainObject(raw.images)) throw otherError(`Invalid images for item ${itemId}`);
    const images: { full?: string; thumb?: string } = {};
    if (raw.images.full !== undefined) images.full = imageUrl(raw.images.full, itemId, 'full');
    if (raw.images.thumb !== undefined) images.thumb = imageUrl(raw.images.thumb, itemId, 'thumb');
    item.images = images;
  }
  if (raw.vars !== undefined) {
    if (!isPlainObject(raw.vars)) throw otherError(`Invalid vars for item ${itemId}`);
    item.vars = raw.vars;
  }
  return item;
}

function checkAdjustments(raw: unknown): Adjustment[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw otherError('Invalid adjustments: expected an array');
  return raw.map((a, i) => {
    if (!isPlainObject(a) || typeof a.title !== 'string' || typeof a.price !== 'number' || !Number.isInteger(a.price)) {
      throw otherError(`Invalid adjustment ${i}: expected {"title": string, "price": integer cents}`);
    }
    return { title: a.title, price: a.price };
  });
}

function checkTime(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseSailthruTime(value, nowMs);
  if (ms === null) throw invalidTime(value);
  return ms;
}

function checkReminderTime(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const delay = reminderDelayMs(value);
  if (delay === null) throw invalidTime(value);
  return nowMs + delay;
}

function textRecord(value: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!value) return undefined;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/**
 * POST /purchase. `incomplete: 1` replaces the user's one stored cart (an empty `items` clears
 * it); otherwise a completed purchase is appended to the purchase log and the cart is cleared.
 * The user is found (or created) by `email`. Purchases are never de-duplicated, so a test can see
 * a purchase that was posted twice.
 */
export function postPurchase(payload: Payload, ctx: EndpointContext): unknown {
  const email = requiredText(payload, 'email');
  if (!isValidEmail(email)) throw invalidEmail(email);
  const incomplete = isTruthyFlag(payload.incomplete);
  if (payload.items === undefined || payload.items === null) {
    if (incomplete) throw missingParameter('items');
    throw otherError('No items in purchase');
  }
  if (!Array.isArray(payload.items)) throw otherError('Invalid items: expected an array');
  if (!incomplete && payload.items.length === 0) throw otherError('No items in purchase');
  const items = payload.items.map(checkItem);
  const adjustments = checkAdjustments(payload.adjustments);
  const vars = optionalObject(payload, 'vars');
  const date = checkTime(optionalText(payload, 'date'), ctx.nowMs);
  const reminderTime = optionalText(payload, 'reminder_time');
  const reminderAt = checkReminderTime(reminderTime, ctx.nowMs);
  const reminderTemplate = optionalText(payload, 'reminder_template');
  const purchaseKeys = textRecord(optionalObject(payload, 'purchase_keys'));
  const sendTemplate = optionalText(payload, 'send_template');
  const messageId = optionalText(payload, 'message_id');
  const channel = optionalText(payload, 'channel');
  const userAgent = optionalText(payload, 'user_agent');

  const profile = ctx.state.findOrCreate('email', email, ctx.nowMs)!;
  const qty = items.reduce((sum, item) => sum + item.qty, 0);
  const price =
    items.reduce((sum, item) => sum + item.price * item.qty, 0) + (adjustments ?? []).reduce((sum, a) => sum + a.price, 0);
  const _id = ctx.state.ids.next(ctx.nowMs);
  const time = rfc2822(date ?? ctx.nowMs);
  profile.updatedAt = new Date(ctx.nowMs).toISOString();

  if (incomplete) {
    if (items.length === 0) {
      profile.cart = null;
    } else {
      const cart: StoredCart = { _id, time: rfc2822(ctx.nowMs), timeMs: ctx.nowMs, items, qty, price };
      if (vars) cart.vars = vars;
      if (adjustments) cart.adjustments = adjustments;
      if (reminderTemplate) cart.reminder_template = reminderTemplate;
      if (reminderTime) cart.reminder_time = reminderTime;
      if (reminderAt !== undefined) cart.reminderAtMs = reminderAt;
      if (messageId) cart.message_id = messageId;
      if (channel) cart.channel = channel;
      profile.cart = cart;
    }
    return { purchase: { _id, time, qty, price, items, incomplete: 1 } };
  }

  const purchase: PurchaseRecord = {
    _id,
    sid: profile.sid,
    email: profile.keys.email ?? email,
    time,
    receivedAt: new Date(ctx.nowMs).toISOString(),
    items,
    qty,
    price,
  };
  if (adjustments) purchase.adjustments = adjustments;
  if (vars) purchase.vars = vars;
  if (purchaseKeys) purchase.purchase_keys = purchaseKeys;
  if (sendTemplate) purchase.send_template = sendTemplate;
  if (messageId) purchase.message_id = messageId;
  if (channel) purchase.channel = channel;
  if (userAgent) purchase.user_agent = userAgent;
  ctx.state.purchases.push(purchase);
  profile.purchases.push(purchase);
  profile.cart = null;
  return { purchase: { _id, time, qty, price, items } };
}
