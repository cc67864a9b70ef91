import { failed, type ActionContext } from './action.ts';
import type { ActionResult } from './outcome.ts';
import { eventEmailOf } from './identity.ts';
import { field, objectOf, stringOf } from './read.ts';
import { isUserNotFound, resultOfError } from './sailthru-port.ts';

/** The permanent failure of SPEC.md §5 when no email can be found for a purchase. */
export function noEmailReason(extid: string): string {
  return `Sailthru has no email for extid ${extid}; send identify with traits.email first, or context.traits.email on the event`;
}

export type AnonymousProfile =
  | { kind: 'found' }
  | { kind: 'absent' }
  /** A permanent refusal other than "not found" (extid lookup disabled, say). */
  | { kind: 'unknown'; reason: string }
  | { kind: 'error'; result: ActionResult };

/** Whether a profile keyed `extid = anonymousId` exists (SPEC.md §2.3). */
export async function lookupAnonymousProfile(ctx: ActionContext, anonymousId: string): Promise<AnonymousProfile> {
  const result = await ctx.sailthru.getUser({ id: anonymousId, key: 'extid', fields: { keys: 1 } });
  if (result.ok) return { kind: 'found' };
  if (isUserNotFound(result)) return { kind: 'absent' };
  if (result.class === 'permanent') return { kind: 'unknown', reason: result.message };
  return { kind: 'error', result: resultOfError(result) };
}

export type EmailResolution = { ok: true; email: string } | { ok: false; result: ActionResult };

/**
 * SPEC.md §5: the event's own email, else the cache, else `GET /user` by extid and its
 * `keys.email`. Lookups are cached (bounded, with TTL) so a repeat buyer costs no call.
 */
export async function resolvePurchaseEmail(ctx: ActionContext): Promise<EmailResolution> {
  const fromEvent = eventEmailOf(ctx.event, (message) => ctx.warn(message));
  if (fromEvent !== undefined) return { ok: true, email: fromEvent };
  const cached = ctx.memory.emails.get(ctx.extid);
  if (cached !== undefined) return { ok: true, email: cached };
  const result = await ctx.sailthru.getUser({ id: ctx.extid, key: 'extid', fields: { keys: 1 } });
  if (!result.ok) {
    return { ok: false, result: isUserNotFound(result) ? failed(noEmailReason(ctx.extid)) : resultOfError(result) };
  }
  const email = stringOf(field(objectOf(field(objectOf(result.body), 'keys')), 'email'));
  if (email === undefined) return { ok: false, result: failed(noEmailReason(ctx.extid)) };
  ctx.memory.emails.set(ctx.extid, email);
  return { ok: true, email };
}
