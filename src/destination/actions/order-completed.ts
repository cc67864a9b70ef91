import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, failed, type Action, type Mapped } from '../action.ts';
import { MESSAGE_ID_PROPERTIES, messageIdOf } from '../attribution.ts';
import { flatten, isEmptyVars } from '../flatten.ts';
import type { EventSettings } from '../overrides.ts';
import { adjustmentsOf, itemFromProduct, type PurchaseItem } from '../products.ts';
import { resolvePurchaseEmail } from '../profile-lookup.ts';
import { field, objectOf, omitKeys, pathOf, stringOf, textOf, type JsonObject } from '../read.ts';
import { resultOfError } from '../sailthru-port.ts';

/** Order properties that become items or adjustments rather than purchase vars (SPEC.md §5). */
const NOT_VARS = ['products', 'tax', 'shipping', 'discount', 'adjustments', ...MESSAGE_ID_PROPERTIES] as const;
/**
 * With `adjustments` given, tax, shipping and discount are not made into adjustments, so they stay
 * in the vars instead of vanishing (SPEC.md §5.2).
 */
const NOT_VARS_WITH_ADJUSTMENTS = ['products', 'adjustments', ...MESSAGE_ID_PROPERTIES] as const;

export const NO_ITEMS_REASON = 'No items in purchase';

/**
 * SPEC.md §5, the POST /purchase payload of a completed order, without `email` (resolved
 * separately, as it may need a lookup). Pure.
 */
export function completedPurchasePayload(
  event: SegmentEvent,
  eventSettings: EventSettings,
  productBaseUrl: string | undefined,
): Mapped<JsonObject> {
  const warnings: string[] = [];
  const properties = objectOf(event.properties);
  const products = field(properties, 'products');
  const pageUrl = stringOf(pathOf(event.context, 'page', 'url'));

  const items: PurchaseItem[] = [];
  /** Products dropped for an invalid quantity or price (SPEC.md §5.1), named if nothing is left. */
  const invalid: string[] = [];
  if (Array.isArray(products)) {
    for (let index = 0; index < products.length; index++) {
      const label = `products[${index}]`;
      const mapped = itemFromProduct(products[index], { label, pageUrl, productBaseUrl });
      warnings.push(...mapped.warnings);
      if (mapped.ok) items.push(mapped.item);
      else if (mapped.missing === 'url') return { ok: false, reason: mapped.reason };
      else if (mapped.missing === 'invalid') {
        warnings.push(`${label} (product ${mapped.id}) dropped: ${mapped.invalid.problem}`);
        invalid.push(`${label} (product ${mapped.id}): ${mapped.invalid.problem}`);
      } else warnings.push(`${label} dropped: it has no product_id, id or sku`);
    }
  } else if (products !== undefined) {
    warnings.push('properties.products ignored: it is not an array');
  }
  if (items.length === 0 && invalid.length > 0) {
    return { ok: false, reason: `${NO_ITEMS_REASON}: every product was dropped: ${invalid.join('; ')}` };
  }
  if (items.length === 0) {
    return { ok: false, reason: `${NO_ITEMS_REASON}: properties.products needs at least one product with a product_id, id or sku` };
  }

  const payload: JsonObject = { incomplete: 0, items };
  const { adjustments, warnings: adjustmentWarnings } = adjustmentsOf(properties);
  warnings.push(...adjustmentWarnings);
  if (adjustments.length > 0) payload.adjustments = adjustments;

  const timestamp = stringOf(event.timestamp);
  if (timestamp !== undefined && Number.isFinite(Date.parse(timestamp))) payload.date = timestamp;
  else if (timestamp !== undefined) warnings.push('timestamp is not a date Sailthru can read; the purchase is dated now');

  const orderId = textOf(field(properties, 'order_id'));
  if (orderId !== undefined) payload.purchase_keys = { extid: orderId };
  if (eventSettings.sendTemplate !== undefined) payload.send_template = eventSettings.sendTemplate;
  const attribution = messageIdOf(event);
  warnings.push(...attribution.warnings);
  if (attribution.messageId !== undefined) payload.message_id = attribution.messageId;
  const userAgent = stringOf(pathOf(event.context, 'userAgent'));
  if (userAgent !== undefined) payload.user_agent = userAgent;

  const notVars = Array.isArray(field(properties, 'adjustments')) ? NOT_VARS_WITH_ADJUSTMENTS : NOT_VARS;
  const { vars, warnings: varWarnings } = flatten(omitKeys(properties, notVars), 'properties');
  warnings.push(...varWarnings);
  if (!isEmptyVars(vars)) payload.vars = vars;
  return { ok: true, value: payload, warnings };
}

export const orderCompleted: Action = {
  name: 'Order Completed',
  reads: [
    'userId',
    'anonymousId (when there is no userId: the extid whose email is looked up)',
    'properties (all but the ones below become purchase vars)',
    'properties.products',
    'properties.order_id',
    'properties.tax',
    'properties.shipping',
    'properties.discount',
    'properties.adjustments',
    'timestamp',
    'context.userAgent',
    'context.page.url',
    'traits.email',
    'context.traits.email',
    'properties.email',
    'integrations.Sailthru.sendTemplate',
    'integrations.Sailthru.message_id',
    'properties.message_id',
    'properties.sailthru_bid',
  ],
  sends: ['GET /user (email, when the event has none and it is not cached)', 'POST /purchase'],
  async perform(ctx) {
    const mapped = completedPurchasePayload(ctx.event, ctx.eventSettings, ctx.settings.productBaseUrl);
    if (!mapped.ok) return failed(mapped.reason);
    ctx.warn(...mapped.warnings);
    const email = await resolvePurchaseEmail(ctx);
    if (!email.ok) return email.result;
    // Sailthru clears the buyer's cart with a completed purchase (it is keyed by email).
    const remembered = ctx.memory.carts?.get(ctx.extid);
    ctx.memory.carts?.forgetUser(ctx.extid);
    ctx.memory.carts?.forgetEmail(email.email);
    const result = await ctx.sailthru.postPurchase({ email: email.email, ...mapped.value });
    if (!result.ok) return resultOfError(result);
    // The cart we knew for this user lives under this email: Sailthru has just emptied it.
    if (remembered !== undefined && remembered.email.toLowerCase() === email.email.toLowerCase()) {
      ctx.memory.carts?.remember(ctx.extid, { email: remembered.email, stored: null });
    }
    return delivered;
  },
};
