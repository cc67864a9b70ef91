import { mergeOneLevel } from '../../segment/batch-context.ts';
import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, type Action } from '../action.ts';
import { flatten, isEmptyVars } from '../flatten.ts';
import { anonymousIdOf, eventEmailOf, extidOf, userIdOf } from '../identity.ts';
import type { EventSettings } from '../overrides.ts';
import { lookupAnonymousProfile } from '../profile-lookup.ts';
import { objectOf, omitKeys, type JsonObject } from '../read.ts';
import { resultOfError } from '../sailthru-port.ts';

/** Traits that are identity or settings, not profile vars (SPEC.md §2.1). */
const NOT_VARS = ['email', 'id', 'userId', 'anonymousId', 'defaultListName', 'optoutValue', 'optout_email'] as const;

/** An object with one key, whatever its text (a list named `__proto__` stays a key). */
export function singleKey(key: string, value: unknown): JsonObject {
  const out: JsonObject = {};
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

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

  if (eventSettings.listName !== undefined) payload.lists = singleKey(eventSettings.listName, 1);

  // SPEC.md §2.4: `none` on every identify would re-subscribe people who unsubscribed.
  const optout = eventSettings.optout;
  if (optout !== undefined && (optout.fromEvent || optout.value !== 'none')) payload.optout_email = optout.value;

  const { vars, warnings: varWarnings } = flatten(omitKeys(identifyTraits(event), NOT_VARS), 'traits');
  warnings.push(...varWarnings);
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
  reads: ['userId', 'anonymousId', 'traits', 'context.traits', 'traits.email', 'context.traits.email', 'properties.email', 'integrations.Sailthru'],
  sends: ['GET /user (anonymous profile, when userId and anonymousId differ)', 'POST /user'],
  async perform(ctx) {
    const userId = userIdOf(ctx.event);
    const anonymousId = anonymousIdOf(ctx.event);
    let mergeFrom: string | undefined;
    let absent = false;
    const merging = userId !== null && anonymousId !== null && anonymousId !== userId;
    const known =
      anonymousId !== null && (ctx.memory.mergedAnonymousIds.has(anonymousId) || ctx.memory.absentAnonymousIds.get(anonymousId) === userId);
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

    const { payload, warnings } = identifyPayload(ctx.event, ctx.eventSettings, mergeFrom);
    ctx.warn(...warnings);
    // A merge can bring the anonymous profile's cart, a new email moves where carts are posted.
    if (userId !== null) ctx.memory.carts?.forgetUser(userId);
    const result = await ctx.sailthru.postUser(payload);
    if (!result.ok) return resultOfError(result);

    if (userId === null) ctx.memory.knownProfiles.set(ctx.extid, true);
    if (mergeFrom !== undefined) {
      ctx.memory.mergedAnonymousIds.set(mergeFrom, true);
      ctx.memory.knownProfiles.delete(mergeFrom);
    }
    if (absent && anonymousId !== null && userId !== null) ctx.memory.absentAnonymousIds.set(anonymousId, userId);
    const email = eventEmailOf(ctx.event);
    if (email !== undefined) ctx.memory.emails.set(ctx.extid, email);
    return delivered;
  },
};
