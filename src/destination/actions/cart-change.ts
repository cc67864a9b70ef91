import { delivered, failed, skipped, type Action, type ActionContext } from '../action.ts';
import type { ActionResult } from '../outcome.ts';
import {
  addToCart,
  alreadyApplied,
  cartFromStored,
  cartPurchasePayload,
  emptyCart,
  isExpired,
  markTouchedItem,
  remindersOf,
  removeFromCart,
  type Cart,
} from '../cart.ts';
import { laterMarkerOf } from '../cart-markers.ts';
import { cartProfileOf } from '../cart-profile.ts';
import { userIdOf } from '../identity.ts';
import { itemFromProduct, productIdOf, quantityOf } from '../products.ts';
import { objectOf, pathOf, stringOf, textOf, type JsonObject } from '../read.ts';
import { resultOfError } from '../sailthru-port.ts';

export const USER_ID_REQUIRED = 'Product Added/Removed requires userId';
export const NOTHING_TO_REMOVE = 'Nothing to remove from Incomplete Cart for this user.';

export type Change = 'add' | 'remove';

/** The change this event makes to a cart, decided before any call (pure). */
type CartChange = (cart: Cart) => { cart: Cart } | { result: ActionResult };

function changeOf(ctx: ActionContext, change: Change): { apply: CartChange } | { result: ActionResult } {
  const properties = objectOf(ctx.event.properties);
  const messageId = textOf(ctx.event.messageId);
  // The exactly-once marker also rides on the touched item (SPEC.md §6).
  const marked = (cart: Cart, id: string): Cart => (messageId === undefined ? cart : markTouchedItem(cart, id, messageId));
  if (change === 'add') {
    const mapped = itemFromProduct(properties, {
      label: 'properties',
      pageUrl: stringOf(pathOf(ctx.event.context, 'page', 'url')),
      productBaseUrl: ctx.settings.productBaseUrl,
    });
    ctx.warn(...mapped.warnings);
    if (!mapped.ok) {
      return { result: failed(mapped.missing === 'id' ? 'Product Added has no product_id, id or sku' : mapped.reason) };
    }
    return { apply: (cart) => ({ cart: marked(addToCart(cart, mapped.item), mapped.item.id) }) };
  }
  const id = productIdOf(properties);
  if (id === undefined) return { result: failed('Product Removed has no product_id, id or sku') };
  const warnings: string[] = [];
  const qty = quantityOf(properties, 'properties', warnings);
  ctx.warn(...warnings);
  // SPEC.md §5.1: a cart event's one product with an invalid quantity fails, no call.
  if (typeof qty !== 'number') return { result: failed(`Product ${id}: ${qty.problem}`) };
  return {
    apply: (cart) => {
      const removal = removeFromCart(cart, id, qty);
      if (removal.kind === 'cart-empty') return { result: failed(NOTHING_TO_REMOVE) };
      if (removal.kind === 'not-in-cart') return { result: skipped(`Product ${id} is not in the user's cart; nothing to remove`) };
      return { cart: marked(removal.cart, id) };
    },
  };
}

/** What `purchase_incomplete` reads after this POST: an emptied cart is no cart. */
function storedFormOf(payload: JsonObject, nowMs: number): { [key: string]: unknown } | null {
  const items = payload.items;
  if (!Array.isArray(items) || items.length === 0) return null;
  const stored: { [key: string]: unknown } = { items, time: new Date(nowMs).toISOString() };
  if (payload.vars !== undefined) stored.vars = payload.vars;
  if (payload.adjustments !== undefined) stored.adjustments = payload.adjustments;
  return stored;
}

/**
 * SPEC.md §6: one GET /user for email and stored cart, the change applied to the whole cart, one
 * POST /purchase with `incomplete: 1`. The cart carries the messageId of the last change it got,
 * so a retry after a POST that landed (but whose answer was lost) does not apply it twice.
 */
function cartAction(change: Change, name: string): Action {
  return {
    name,
    reads: [
      'userId',
      'messageId',
      change === 'add'
        ? 'properties (one product: product_id/id/sku, name, quantity, price, url, tags, image_url, image_url_thumb)'
        : 'properties (one product: product_id/id/sku, quantity)',
      ...(change === 'add' ? ['context.page.url'] : []),
      'traits.email',
      'context.traits.email',
      'integrations.Sailthru.reminderTemplate',
      'integrations.Sailthru.reminderTime',
    ],
    sends: [
      'GET /user (email + purchase_incomplete)',
      ...(change === 'add' ? ["POST /user (only to attach the event's email to a profile that has none)"] : []),
      'POST /purchase (incomplete: 1)',
    ],
    async perform(ctx) {
      if (userIdOf(ctx.event) === null) return failed(USER_ID_REQUIRED);
      const planned = planCartChange(ctx, change);
      if ('result' in planned) return planned.result;
      const [result] = await performCartChanges(ctx, [planned], change === 'add');
      return result!;
    },
  };
}

/** One cart event's change, planned before any call: its messageId (the marker) and how it changes a cart. */
export interface PlannedCartChange {
  messageId: string | undefined;
  apply: CartChange;
}

/** The change an event of `ctx` makes (a failure result when the event cannot make one); pure. */
export function planCartChange(ctx: ActionContext, change: Change): PlannedCartChange | { result: ActionResult } {
  const planned = changeOf(ctx, change);
  if ('result' in planned) return planned;
  return { messageId: textOf(ctx.event.messageId), apply: planned.apply };
}

/**
 * SPEC.md §6 for consecutive cart changes of `ctx`'s user (one, or a coalesced run of a lane's
 * queued changes: issue 19): one GET /user (or the remembered cart), every change applied in
 * order, one POST /purchase whose cart marker is the last applied change's messageId. Returns one
 * result per change, in order. After a crash the fetched cart may carry the marker of any change
 * of the run (the POST landed, its answer was lost, and the lane now holds more): those up to the
 * last one it names are not applied again. `attach`: some change is an addition (cart-profile.ts).
 */
export async function performCartChanges(ctx: ActionContext, changes: readonly PlannedCartChange[], attach: boolean): Promise<ActionResult[]> {
  const userId = userIdOf(ctx.event);
  if (userId === null) return changes.map(() => failed(USER_ID_REQUIRED));
  const found = await cartProfileOf(ctx, userId, { attach });
  if (!found.ok) return changes.map(() => found.result);
  const { email, stored } = found.profile;
  const results: ActionResult[] = [];
  const one = changes.length === 1;

  const landed = lastIndexWhere(changes, (m) => alreadyApplied(stored, m));
  if (landed >= 0) {
    const id = changes[landed]!.messageId!;
    ctx.warn(
      one
        ? `the stored cart already carries this change (messageId ${id}): an earlier attempt's POST landed; not posted again`
        : `the stored cart already carries the changes up to messageId ${id}: an earlier attempt's POST landed; those are not applied again`,
    );
    for (let i = 0; i <= landed; i++) results.push(delivered);
    if (results.length === changes.length) return results;
  }
  // The rare case (cart-markers.ts): a marker naming none of these changes but one queued after them.
  const later = await laterMarkerOf(ctx.memory.cartMarkers, ctx.memory.postedMarkers, stored, changes.map((c) => c.messageId));
  if ('result' in later) return changes.map((_, i) => results[i] ?? later.result);
  if (later.marker !== null) {
    ctx.warn(
      `the stored cart carries messageId ${later.marker}, a change queued after ${one ? 'this one' : 'these'}: an earlier attempt's POST, which carried the whole cart, landed; ${one ? 'not posted again' : 'these are not applied again'}`,
    );
    return changes.map(() => delivered);
  }
  let cart = emptyCart();
  if (isExpired(stored, ctx.now(), ctx.settings.cartExpiryHours)) {
    ctx.warn(`the stored cart is older than ${ctx.settings.cartExpiryHours} hours and was treated as empty`);
  } else {
    const fetched = cartFromStored(stored);
    ctx.warn(...fetched.warnings);
    cart = fetched.cart;
  }

  if (cart.items.length === 0) {
    // Only a removal can empty a cart, so for one change this is a removal's retry.
    const cleared = lastIndexWhere(changes, (m) => ctx.memory.clearedCarts.has(m));
    if (cleared >= results.length) {
      const id = changes[cleared]!.messageId!;
      ctx.warn(
        one
          ? `the cart is empty and an earlier attempt of this change (messageId ${id}) emptied it; not posted again`
          : `the cart is empty and an earlier attempt of the changes up to messageId ${id} emptied it; those are not applied again`,
      );
      while (results.length <= cleared) results.push(delivered);
      if (results.length === changes.length) return results;
    }
  }

  const applied: number[] = [];
  let marker: string | undefined;
  for (let i = results.length; i < changes.length; i++) {
    const changed = changes[i]!.apply(cart);
    if ('result' in changed) {
      results.push(changed.result);
      continue;
    }
    cart = changed.cart;
    marker = changes[i]!.messageId;
    applied.push(i);
    results.push(delivered);
  }
  if (applied.length === 0) return results;
  // Remembered before sending: the answer may be lost after Sailthru applied the change.
  if (cart.items.length === 0 && marker !== undefined) ctx.memory.clearedCarts.set(marker, true);

  const reminders = remindersOf(ctx.eventSettings.reminderTemplate, ctx.eventSettings.reminderTime);
  if (reminders.warning !== undefined) ctx.warn(reminders.warning);
  const payload = cartPurchasePayload(email, cart, marker, reminders.fields);
  // Until Sailthru confirms, nobody knows whether the change landed: fetch next time.
  ctx.memory.carts?.forgetUser(userId);
  const result = await ctx.sailthru.postPurchase(payload);
  if (!result.ok) {
    const error = resultOfError(result);
    for (const i of applied) results[i] = error;
    return results;
  }
  // Confirmed: these events are settled before any later change of their lane (cart-markers.ts).
  // Each, not just the last: the items they touched carry their messageIds.
  for (const i of applied) {
    const id = changes[i]!.messageId;
    if (id !== undefined) ctx.memory.postedMarkers.set(id, true);
  }
  // Posted with the profile's own email, so it is that profile's cart now.
  ctx.memory.carts?.remember(userId, { email, stored: storedFormOf(payload, ctx.now()) });
  return results;
}

/** The last change whose messageId `has` (-1: none). */
function lastIndexWhere(changes: readonly PlannedCartChange[], has: (messageId: string) => boolean): number {
  for (let i = changes.length - 1; i >= 0; i--) {
    const id = changes[i]!.messageId;
    if (id !== undefined && has(id)) return i;
  }
  return -1;
}

export const productAdded = cartAction('add', 'Product Added');
export const productRemoved = cartAction('remove', 'Product Removed');
