import { rfc2822 } from '../dates.ts';
import { optionalObject, optionalText, requiredText, isTruthyFlag, type Payload } from '../payload.ts';
import { applyUserUpdate } from '../profile-update.ts';
import { isValidEmail, type Profile } from '../profiles.ts';
import type { PurchaseRecord, StoredCart } from '../records.ts';
import { otherError, userNotFound } from '../sailthru-error.ts';
import type { EndpointContext } from './context.ts';

const DEFAULT_FIELDS = ['keys', 'vars', 'lists', 'engagement', 'optout_email'];

/** The cart as Sailthru's GET /user shows it (`purchase_incomplete`). */
export function cartView(cart: StoredCart, sid: string, withVars = true): Record<string, unknown> {
  const view: Record<string, unknown> = {
    chnl: cart.channel ?? 'online',
    unique_id: sid,
    time: cart.time,
    qty: cart.qty,
    price: cart.price,
    items: cart.items,
    _id: cart._id,
  };
  if (cart.vars && withVars) view.vars = cart.vars;
  if (cart.adjustments) view.adjustments = cart.adjustments;
  if (cart.reminder_template) view.reminder_template = cart.reminder_template;
  if (cart.reminder_time) view.reminder_time = cart.reminder_time;
  if (cart.message_id) view.message_id = cart.message_id;
  return view;
}

function purchaseView(p: PurchaseRecord): Record<string, unknown> {
  const { sid: _sid, receivedAt: _receivedAt, ...view } = p;
  return view;
}

export function userView(profile: Profile, fields: string[], cartVars = true): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const field of fields) {
    switch (field) {
      case 'keys':
        view.keys = { ...profile.keys };
        break;
      case 'vars':
        view.vars = { ...profile.vars };
        break;
      case 'lists':
        view.lists = { ...profile.lists };
        break;
      case 'optout_email':
        view.optout_email = profile.optout_email;
        break;
      case 'engagement':
        view.engagement = profile.purchases.length > 0 ? 'active' : 'new';
        break;
      case 'purchase_incomplete':
        view.purchase_incomplete = profile.cart ? cartView(profile.cart, profile.sid, cartVars) : null;
        break;
      case 'purchases':
        view.purchases = profile.purchases.map(purchaseView);
        break;
      case 'lifetime': {
        const last = profile.purchases.at(-1);
        view.lifetime = {
          purchase_count: profile.purchases.length,
          purchase_price: profile.purchases.reduce((sum, p) => sum + p.price, 0),
          last_purchase_time: last ? last.time : null,
        };
        break;
      }
      case 'activity':
        view.activity = {
          create_date: rfc2822(Date.parse(profile.createdAt)),
          last_update: rfc2822(Date.parse(profile.updatedAt)),
        };
        break;
      default:
        // Fields the emulator does not model (device, smart_lists…) are omitted, not errors.
        break;
    }
  }
  return view;
}

function requestedFields(payload: Payload): string[] {
  const fields = optionalObject(payload, 'fields');
  if (!fields) return DEFAULT_FIELDS;
  return Object.entries(fields)
    .filter(([, on]) => isTruthyFlag(on))
    .map(([name]) => name);
}

function lookup(payload: Payload, ctx: EndpointContext): Profile {
  const id = requiredText(payload, 'id');
  const key = optionalText(payload, 'key') ?? 'email';
  // Observed: GET /user with an unparseable email answers HTTP 200 + error 99.
  if (key === 'email' && !isValidEmail(id)) throw otherError(`Invalid email: ${id}`, 200);
  const profile = ctx.state.profiles.find(key, id);
  if (!profile) throw userNotFound(key, id);
  return profile;
}

export function getUser(payload: Payload, ctx: EndpointContext): unknown {
  return userView(lookup(payload, ctx), requestedFields(payload), ctx.state.cartVarsReturned);
}

export function postUser(payload: Payload, ctx: EndpointContext): unknown {
  const profile = applyUserUpdate(ctx.state, payload, ctx.nowMs);
  if (payload.fields === undefined) return { ok: true };
  return userView(profile, requestedFields(payload), ctx.state.cartVarsReturned);
}

export function deleteUser(payload: Payload, ctx: EndpointContext): unknown {
  const profile = lookup(payload, ctx);
  ctx.state.deletedUsers.push(ctx.state.profiles.remove(profile, ctx.nowMs, 'deleted'));
  return { ok: true };
}
