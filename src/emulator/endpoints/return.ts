import { requiredText, type Payload } from '../payload.ts';
import { isValidEmail } from '../profiles.ts';
import type { ReturnRecord } from '../records.ts';
import { invalidEmail, missingParameter, otherError } from '../sailthru-error.ts';
import type { EndpointContext } from './context.ts';
import { checkItem } from './purchase.ts';

/**
 * POST /return `{email, items}`: a return or refund recorded on the profile (found or created by
 * email, as purchases are). Items are checked as purchase items are, each with an optional
 * `order_id`. Returns are never de-duplicated, so a test sees a refund posted twice.
 */
export function postReturn(payload: Payload, ctx: EndpointContext): unknown {
  const email = requiredText(payload, 'email');
  if (!isValidEmail(email)) throw invalidEmail(email);
  if (payload.items === undefined || payload.items === null) throw missingParameter('items');
  if (!Array.isArray(payload.items)) throw otherError('Invalid items: expected an array');
  if (payload.items.length === 0) throw otherError('No items in return');
  const items = payload.items.map((raw, index) => {
    const item: ReturnRecord['items'][number] = checkItem(raw, index);
    const orderId = (raw as Record<string, unknown>).order_id;
    if (typeof orderId === 'string' || typeof orderId === 'number') item.order_id = String(orderId);
    else if (orderId !== undefined && orderId !== null) throw otherError(`Invalid order_id for item ${item.id}`);
    return item;
  });
  const profile = ctx.state.findOrCreate('email', email, ctx.nowMs)!;
  const record: ReturnRecord = {
    _id: ctx.state.ids.next(ctx.nowMs),
    sid: profile.sid,
    email: profile.keys.email ?? email,
    receivedAt: new Date(ctx.nowMs).toISOString(),
    items,
    qty: items.reduce((sum, item) => sum + item.qty, 0),
    price: items.reduce((sum, item) => sum + item.price * item.qty, 0),
  };
  ctx.state.returns.push(record);
  profile.updatedAt = record.receivedAt;
  return { return: { _id: record._id, qty: record.qty, price: record.price, items } };
}
