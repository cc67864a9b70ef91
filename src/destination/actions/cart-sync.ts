import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, failed, type Action, type ActionContext, type Mapped } from '../action.ts';
import { addToCart, cartPurchasePayload, emptyCart, remindersOf, type Cart } from '../cart.ts';
import type { ActionResult } from '../outcome.ts';
import { eventEmailOf } from '../identity.ts';
import { itemFromProduct } from '../products.ts';
import { noEmailReason } from '../profile-lookup.ts';
import { field, objectOf, pathOf, stringOf, textOf } from '../read.ts';
import { isUserNotFound, resultOfError } from '../sailthru-port.ts';

/**
 * SPEC.md §6, whole-cart sync: the cart these products make, replacing whatever Sailthru holds.
 * Products map as purchase items do (one without an id is dropped with a warning); the same id
 * twice is one item with the quantities added. An empty `products` clears the cart. Pure.
 */
export function cartOfProducts(event: SegmentEvent, productBaseUrl: string | undefined): Mapped<Cart> {
  const warnings: string[] = [];
  const products = field(objectOf(event.properties), 'products');
  const pageUrl = stringOf(pathOf(event.context, 'page', 'url'));
  let cart = emptyCart();
  const dropped: string[] = [];
  const list = Array.isArray(products) ? products : [];
  for (let index = 0; index < list.length; index++) {
    const label = `products[${index}]`;
    const mapped = itemFromProduct(list[index], { label, pageUrl, productBaseUrl });
    warnings.push(...mapped.warnings);
    if (mapped.ok) cart = addToCart(cart, mapped.item);
    else if (mapped.missing === 'url') return { ok: false, reason: mapped.reason };
    else {
      dropped.push(label);
      warnings.push(`${label} dropped: ${'reason' in mapped ? String(mapped.reason) : 'it has no product_id, id or sku'}`);
    }
  }
  // Products were given but none could be sent: clearing the cart instead would lose it.
  if (list.length > 0 && cart.items.length === 0) {
    return { ok: false, reason: `No product could be sent (${dropped.join(', ')} dropped); the stored cart was left as it is` };
  }
  return { ok: true, value: cart, warnings };
}

/**
 * The cart's address: the profile's email when known (remembered from an identify or a lookup),
 * else the event's, else `GET /user`. A known profile email wins so cart and profile stay one
 * record (SPEC.md §6); no lookup is needed when either is at hand.
 */
async function cartEmailOf(ctx: ActionContext): Promise<{ ok: true; email: string } | { ok: false; result: ActionResult }> {
  const known = ctx.memory.emails.get(ctx.extid) ?? eventEmailOf(ctx.event, (message) => ctx.warn(message));
  if (known !== undefined) return { ok: true, email: known };
  const lookup = await ctx.sailthru.getUser({ id: ctx.extid, key: 'extid', fields: { keys: 1 } });
  if (!lookup.ok) return { ok: false, result: isUserNotFound(lookup) ? failed(noEmailReason(ctx.extid)) : resultOfError(lookup) };
  const email = stringOf(field(objectOf(field(objectOf(lookup.body), 'keys')), 'email'));
  if (email === undefined) return { ok: false, result: failed(noEmailReason(ctx.extid)) };
  ctx.memory.emails.set(ctx.extid, email);
  return { ok: true, email };
}

/** Cart Viewed / Checkout Started carrying `products`: one POST /purchase with `incomplete: 1`. */
export const cartSync: Action = {
  name: 'Cart Viewed / Checkout Started',
  reads: [
    'userId',
    'anonymousId (when there is no userId)',
    'messageId',
    'properties.products',
    'context.page.url',
    'traits.email',
    'context.traits.email',
    'properties.email',
    'integrations.Sailthru.reminderTemplate',
    'integrations.Sailthru.reminderTime',
  ],
  sends: ['GET /user (email, when neither the event nor memory has it)', 'POST /purchase (incomplete: 1)'],
  async perform(ctx) {
    const mapped = cartOfProducts(ctx.event, ctx.settings.productBaseUrl);
    if (!mapped.ok) return failed(mapped.reason);
    ctx.warn(...mapped.warnings);
    const email = await cartEmailOf(ctx);
    if (!email.ok) return email.result;
    const reminders = remindersOf(ctx.eventSettings.reminderTemplate, ctx.eventSettings.reminderTime);
    if (reminders.warning !== undefined) ctx.warn(reminders.warning);
    // Replacing a cart is idempotent, so a retry needs no check; the marker still tells a later
    // Product Added which change the cart carries.
    const payload = cartPurchasePayload(email.email, mapped.value, textOf(ctx.event.messageId), reminders.fields);
    ctx.memory.carts?.forgetUser(ctx.extid);
    ctx.memory.carts?.forgetEmail(email.email);
    const result = await ctx.sailthru.postPurchase(payload);
    return result.ok ? delivered : resultOfError(result);
  },
};
