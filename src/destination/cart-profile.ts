import { failed, type ActionContext } from './action.ts';
import { eventEmailOf } from './identity.ts';
import type { ActionResult } from './outcome.ts';
import { noEmailReason } from './profile-lookup.ts';
import { field, objectOf, stringOf } from './read.ts';
import { isUserNotFound, resultOfError } from './sailthru-port.ts';
import { claimEmailBeforeProfileWrite, forgetBeforeProfileWrite } from './unchanged-profiles.ts';

/** The profile a cart event changes: the address its cart lives under and the cart stored there. */
export interface CartProfile {
  /** The one address the cart is read from and written to (SPEC.md §6). */
  email: string;
  /** `purchase_incomplete` as fetched (or remembered); undefined or null when there is none. */
  stored: unknown;
}

/**
 * SPEC.md §6: the cart lives under the profile's own email. Sailthru keys carts by email, so
 * posting under the event's address while the cart was read from the profile's would split the
 * cart across two profiles (the second Product Added would lose the first product). Hence:
 * - the profile has an email: that is the address, whatever the event says (a different one is
 *   reported as a warning: changing the address is identify's job);
 * - it has none (or there is no profile yet): the event's email is first attached to the profile
 *   keyed by userId (`POST /user`), so cart and profile are one record, and then used;
 * - neither: the permanent failure of §5.
 * `attach: false` (a removal) skips the attaching: a profile without an email has no cart, so there
 * is nothing to remove and nothing will be posted.
 */
export async function cartProfileOf(
  ctx: ActionContext,
  userId: string,
  { attach }: { attach: boolean },
): Promise<{ ok: true; profile: CartProfile } | { ok: false; result: ActionResult }> {
  const eventEmail = eventEmailOf(ctx.event, (message) => ctx.warn(message));
  const known = ctx.memory.carts?.get(userId);
  let profileEmail: string | undefined;
  let stored: unknown;
  if (known !== undefined) {
    profileEmail = known.email;
    stored = known.stored;
  } else {
    const lookup = await ctx.sailthru.getUser({ id: userId, key: 'extid', fields: { keys: 1, purchase_incomplete: 1 } });
    if (!lookup.ok && !isUserNotFound(lookup)) return { ok: false, result: resultOfError(lookup) };
    const profile = lookup.ok ? objectOf(lookup.body) : undefined;
    profileEmail = stringOf(field(objectOf(field(profile, 'keys')), 'email'));
    stored = field(profile, 'purchase_incomplete');
    if (profileEmail !== undefined) {
      ctx.memory.emails.set(userId, profileEmail);
      ctx.memory.carts?.remember(userId, { email: profileEmail, stored: objectOf(stored) ?? null });
    }
  }

  if (profileEmail !== undefined) {
    if (eventEmail !== undefined && eventEmail.toLowerCase() !== profileEmail.toLowerCase()) {
      ctx.warn(
        `the event's email ${eventEmail} differs from the profile's ${profileEmail}; the cart stays with the profile's address ` +
          '(send identify with the new email to change it)',
      );
    }
    return { ok: true, profile: { email: profileEmail, stored } };
  }
  if (eventEmail === undefined) return { ok: false, result: failed(noEmailReason(userId)) };
  if (!attach) return { ok: true, profile: { email: eventEmail, stored } };
  // keysconflict merge, as identify does: a profile that already holds this address (an earlier
  // purchase by email) joins the userId's profile rather than failing the cart change.
  // keysconflict merge may bring another profile's vars in: the next identify is sent whatever it holds.
  const forgotten = (await forgetBeforeProfileWrite(ctx, [userId])) ?? (await claimEmailBeforeProfileWrite(ctx, eventEmail, userId));
  if (forgotten !== null) return { ok: false, result: { state: 'retry', reason: forgotten } };
  const attached = await ctx.sailthru.postUser({ id: userId, key: 'extid', keys: { email: eventEmail }, keysconflict: 'merge' });
  if (!attached.ok) return { ok: false, result: resultOfError(attached) };
  ctx.memory.emails.set(userId, eventEmail);
  ctx.warn(`the profile of ${userId} had no email; ${eventEmail} from the event was attached to it before posting the cart`);
  // A profile without an email has no cart (Sailthru keeps carts by email). Should a profile that
  // already held the address merge in with a cart of its own, this change replaces that cart: a
  // second GET on every first cart event of such users would be the price of keeping it.
  return { ok: true, profile: { email: eventEmail, stored } };
}
