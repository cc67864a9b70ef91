import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, failed, type Action, type Mapped } from '../action.ts';
import { cents, itemFromProduct, productUrlOf } from '../products.ts';
import { resolvePurchaseEmail } from '../profile-lookup.ts';
import { field, numberOf, objectOf, pathOf, preview, stringOf, textOf, type JsonObject } from '../read.ts';
import { resultOfError } from '../sailthru-port.ts';

export const NO_REFUND_ITEMS_REASON =
  'Nothing to return: Order Refunded needs properties.products with a product_id, id or sku, or properties.order_id with total (or revenue)';

/**
 * SPEC.md §5.3, the POST /return payload without `email` (resolved as for a purchase). Items
 * come from `products` as purchase items do, each tagged with the order; a refund of a whole
 * order without `products` becomes one item named by the order id, priced at the refunded total.
 * Pure.
 */
export function refundPayload(event: SegmentEvent, productBaseUrl: string | undefined): Mapped<JsonObject> {
  const warnings: string[] = [];
  const properties = objectOf(event.properties);
  const orderId = textOf(field(properties, 'order_id'));
  const pageUrl = stringOf(pathOf(event.context, 'page', 'url'));
  const products = field(properties, 'products');
  const items: JsonObject[] = [];

  if (Array.isArray(products) && products.length > 0) {
    for (let index = 0; index < products.length; index++) {
      const label = `products[${index}]`;
      const mapped = itemFromProduct(products[index], { label, pageUrl, productBaseUrl });
      warnings.push(...mapped.warnings);
      if (mapped.ok) items.push(orderId !== undefined ? { ...mapped.item, order_id: orderId } : { ...mapped.item });
      else if (mapped.missing === 'url') return { ok: false, reason: mapped.reason };
      else warnings.push(`${label} dropped: ${'reason' in mapped ? String(mapped.reason) : 'it has no product_id, id or sku'}`);
    }
    if (items.length === 0) return { ok: false, reason: `${NO_REFUND_ITEMS_REASON} (every product was dropped)` };
    return { ok: true, value: { items }, warnings };
  }
  if (products !== undefined && !Array.isArray(products)) warnings.push('properties.products ignored: it is not an array');

  // The whole order: one item standing for it.
  const totalField = field(properties, 'total') !== undefined ? 'total' : 'revenue';
  const rawTotal = field(properties, totalField);
  if (orderId === undefined || rawTotal === undefined) return { ok: false, reason: NO_REFUND_ITEMS_REASON };
  const total = numberOf(rawTotal);
  if (total === undefined || total < 0) {
    return { ok: false, reason: `properties.${totalField} ${preview(rawTotal)} is not an amount (a number of at least 0, e.g. 19.99): nothing returned` };
  }
  const url = productUrlOf(properties, orderId, { label: 'properties', pageUrl, productBaseUrl });
  if (url === undefined) {
    return { ok: false, reason: `Order ${orderId} has no url: set properties.url, context.page.url on the event, or the productBaseUrl setting` };
  }
  items.push({ id: orderId, qty: 1, price: cents(total), url, order_id: orderId });
  return { ok: true, value: { items }, warnings };
}

export const orderRefunded: Action = {
  name: 'Order Refunded',
  reads: [
    'userId',
    'anonymousId (when there is no userId: the extid whose email is looked up)',
    'properties.products',
    'properties.order_id',
    'properties.total',
    'properties.revenue (when there is no total)',
    'properties.url (a whole-order refund\'s item url)',
    'context.page.url',
    'traits.email',
    'context.traits.email',
    'properties.email',
  ],
  sends: ['GET /user (email, when the event has none and it is not cached)', 'POST /return'],
  async perform(ctx) {
    const mapped = refundPayload(ctx.event, ctx.settings.productBaseUrl);
    if (!mapped.ok) return failed(mapped.reason);
    ctx.warn(...mapped.warnings);
    const email = await resolvePurchaseEmail(ctx);
    if (!email.ok) return email.result;
    const result = await ctx.sailthru.postReturn({ email: email.email, ...mapped.value });
    return result.ok ? delivered : resultOfError(result);
  },
};
