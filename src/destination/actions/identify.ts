import { mergeOneLevel } from '../../segment/batch-context.ts';
import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, skipped, type Action, type ActionContext } from '../action.ts';
import { flatten, isEmptyVars } from '../flatten.ts';
import { anonymousIdOf, eventEmailOf, extidOf, userIdOf } from '../identity.ts';
import type { EventSettings } from '../overrides.ts';
import { recordLink } from '../identity-links.ts';
import { listsOf } from '../lists.ts';
import { optoutOf } from '../optout.ts';
import { lookupAnonymousProfile } from '../profile-lookup.ts';
import { field, objectOf, omitKeys, stringOf, type JsonObject } from '../read.ts';
import type { ActionResult } from '../outcome.ts';
import { resultOfError } from '../sailthru-port.ts';
import { checkUnchanged, claimEmailBeforeProfileWrite, forgetBeforeProfileWrite, forgetSent, profileHash, recordSent, unchangedTtlMs } from '../unchanged-profiles.ts';

/** Traits that are identity or settings, not profile vars (SPEC.md §2.1). */
const NOT_VARS = ['email', 'id', 'userId', 'anonymousId', 'defaultListName', 'optoutValue', 'optout_email', 'lists'] as const;

/**
 * SPEC.md §2, the POST /user payload. With `mergeFrom` (the anonymousId of an existing profile)
 * the anonymous profile is addressed and given the userId as its extid, so Sailthru merges it
 * into any profile that already has that userId. Pure.
 */
export function identifyPayload(
  event: SegmentEvent,
  eventSettings: EventSettings,
  mergeFrom?: string,
): { payload: JsonObject; warnings: string[] } {
  const extid = extidOf(event) ?? '';
  const userId = userIdOf(event);
  const warnings: string[] = [];
  const email = eventEmailOf(event, (message) => warnings.push(message));
  const payload: JsonObject = { id: mergeFrom ?? extid, key: 'extid', keysconflict: 'merge' };

  const keys: JsonObject = {};
  if (email !== undefined) keys.email = email;
  if (mergeFrom !== undefined && userId !== null) keys.extid = userId;
  if (Object.keys(keys).length > 0) payload.keys = keys;

  const traits = identifyTraits(event);
  const sailthru = objectOf(field(objectOf(event.integrations), 'Sailthru'));
  const { lists, warnings: listWarnings } = listsOf(field(sailthru, 'lists'), field(traits, 'lists'), eventSettings.listName);
  if (lists !== undefined) payload.lists = lists;
  const { optout, warnings: optoutWarnings } = optoutOf(eventSettings.optout, field(traits, 'optout_email'));
  if (optout !== undefined) payload.optout_email = optout;

  const { vars, warnings: varWarnings } = flatten(omitKeys(traits, NOT_VARS), 'traits');
  warnings.push(...listWarnings, ...optoutWarnings, ...varWarnings);
  if (!isEmptyVars(vars)) payload.vars = vars;
  return { payload, warnings };
}

/**
 * SPEC.md §2.1: `context.traits` overlaid by top-level `traits`, key by key (a key in both takes
 * the top-level value whole). RudderStack's SDKs send identify traits only in `context.traits`.
 */
export function identifyTraits(event: SegmentEvent): JsonObject | undefined {
  const contextTraits = objectOf(objectOf(event.context)?.traits);
  return mergeOneLevel(contextTraits, objectOf(event.traits));
}

export const identify: Action = {
  name: 'identify',
  reads: [
    'userId',
    'anonymousId',
    'traits',
    'context.traits',
    'traits.email',
    'context.traits.email',
    'properties.email',
    'traits.lists',
    'traits.optout_email',
    'integrations.Sailthru',
    'integrations.Sailthru.lists',
  ],
  sends: ['GET /user (anonymous profile, when userId and anonymousId differ)', 'POST /user'],
  perform: (ctx) => performIdentify(ctx, (mergeFrom) => identifyPayload(ctx.event, ctx.eventSettings, mergeFrom)),
};

/**
 * Builds the POST /user payload for `performIdentify`: of one event (identifyPayload) or of a
 * coalesced run of them (coalesce-identify.ts), addressed to `mergeFrom` when merging.
 */
export type IdentifyPayloadOf = (mergeFrom?: string) => { payload: JsonObject; warnings: string[] };

/**
 * SPEC.md §2 for `ctx.event` (whose userId and anonymousId decide the merge), sending the payload
 * `build` makes: the unchanged skip compares that payload, so a coalesced identify is skipped only
 * when the merged update is what Sailthru last accepted.
 */
export async function performIdentify(ctx: ActionContext, build: IdentifyPayloadOf): Promise<ActionResult> {
  const userId = userIdOf(ctx.event);
  const anonymousId = anonymousIdOf(ctx.event);
  let mergeFrom: string | undefined;
  let absent = false;
  const merging = userId !== null && anonymousId !== null && anonymousId !== userId;
  const known =
    anonymousId !== null && (ctx.memory.mergedAnonymousIds.has(anonymousId) || ctx.memory.absentAnonymousIds.get(anonymousId) === userId);
  // What the user's profile gets, addressed to it (a merge's payload addresses the anonymous one):
  // what "unchanged" compares, before any lookup, so a repeated identify costs no call at all.
  const sentHash = profileHash(build().payload);
  // Unless known otherwise, something may be remembered for the user that this POST makes stale.
  let remembered = true;
  if (await mayBeUnchanged(ctx, merging, known, anonymousId, userId)) {
    const unchanged = await checkUnchanged(ctx, sentHash);
    if (unchanged.skip !== null) {
      const email = emailOf(build().payload);
      if (email !== undefined) ctx.memory.emails.set(ctx.extid, email);
      return skipped(unchanged.skip);
    }
    remembered = unchanged.remembered;
  }
  if (merging && !known && ctx.memory.knownProfiles.has(anonymousId)) {
    // We created that profile ourselves (the visitor's anonymous events): no lookup needed.
    mergeFrom = anonymousId;
  } else if (merging && !known) {
    const profile = await lookupAnonymousProfile(ctx, anonymousId);
    if (profile.kind === 'error') return profile.result;
    if (profile.kind === 'found') mergeFrom = anonymousId;
    absent = profile.kind === 'absent';
    if (profile.kind === 'unknown') {
      ctx.warn(`could not look up the anonymous profile ${anonymousId} (${profile.reason}); identified by userId without merging`);
    }
  }

  const { payload, warnings } = build(mergeFrom);
  ctx.warn(...warnings);
  // A redirected identify (from a linked anonymousId) changes the user's profile too; forgotten
  // before the call (docs/decisions.md, "Unchanged identifies").
  if (remembered) {
    const problem = await forgetBeforeProfileWrite(ctx, [ctx.extid]);
    if (problem !== null) return { state: 'retry', reason: problem };
  }
  // Another user's profile holding this address is merged away (keysconflict: merge).
  const claimed = await claimEmailBeforeProfileWrite(ctx, emailOf(payload), ctx.extid);
  if (claimed !== null) return { state: 'retry', reason: claimed };
  // A merge can bring the anonymous profile's cart, a new email moves where carts are posted;
  // an update that does neither leaves the remembered cart where it is.
  if (userId !== null && (mergeFrom !== undefined || movesCart(ctx, userId, payload))) ctx.memory.carts?.forgetUser(userId);
  const result = await ctx.sailthru.postUser(payload);
  if (!result.ok) return resultOfError(result);

  if (userId === null) ctx.memory.knownProfiles.set(ctx.extid, true);
  if (mergeFrom !== undefined) {
    ctx.memory.mergedAnonymousIds.set(mergeFrom, true);
    ctx.memory.knownProfiles.delete(mergeFrom);
    // The anonymous profile is gone into the user's.
    const problem = await forgetSent(ctx, [mergeFrom]);
    if (problem !== null) return { state: 'retry', reason: problem };
  }
  if (absent && anonymousId !== null && userId !== null) ctx.memory.absentAnonymousIds.set(anonymousId, userId);
  // SPEC.md §0: merged or not, later events of the anonymousId alone go to the userId.
  if (merging) {
    const problem = await recordLink(ctx.memory.links, anonymousId, userId);
    if (problem !== null) return { state: 'retry', reason: problem };
  }
  const email = emailOf(payload);
  if (email !== undefined) ctx.memory.emails.set(ctx.extid, email);
  if (!ctx.redirected) await recordSent(ctx, sentHash);
  return delivered;
}

/** Whether the POST may change which address the user's remembered cart lives under. */
function movesCart(ctx: ActionContext, userId: string, payload: JsonObject): boolean {
  const cart = ctx.memory.carts?.get(userId);
  const email = emailOf(payload);
  return cart !== undefined && email !== undefined && email.toLowerCase() !== cart.email.toLowerCase();
}

/** The payload's `keys.email` (the event's email, as identifyPayload read it). */
function emailOf(payload: JsonObject): string | undefined {
  return stringOf(field(objectOf(payload.keys), 'email'));
}

/**
 * Whether the skip may apply. Not to an event sent under a userId it did not carry: it runs in
 * the anonymousId's lane, and only the user's own lane (one event at a time, whichever worker)
 * reads and writes what was sent to that user. Not to a merge still to make: only once the
 * anonymousId is known merged or tied to this userId (the store's tie is written only after an
 * identify or alias of the two was delivered).
 */
async function mayBeUnchanged(ctx: ActionContext, merging: boolean, known: boolean, anonymousId: string | null, userId: string | null): Promise<boolean> {
  if (ctx.redirected === true || unchangedTtlMs(ctx) <= 0) return false;
  if (!merging || known || anonymousId === null) return true;
  try {
    return (await ctx.memory.links.userIdFor(anonymousId)) === userId;
  } catch {
    return false;
  }
}
