import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, failed, skipped, type Action } from '../action.ts';
import { eventEmailOf, userIdOf } from '../identity.ts';
import { recordLink } from '../identity-links.ts';
import type { ActionResult } from '../outcome.ts';
import { lookupAnonymousProfile } from '../profile-lookup.ts';
import { field, objectOf, stringOf, textOf, type JsonObject } from '../read.ts';
import { claimEmailBeforeProfileWrite, forgetSent } from '../unchanged-profiles.ts';
import { resultOfError } from '../sailthru-port.ts';

/** SPEC.md §4 + §2.3: the previous id's profile takes the userId as extid and merges. Pure. */
export function aliasPayload(event: SegmentEvent, previousId: string, userId: string, warn?: (message: string) => void): JsonObject {
  const keys: JsonObject = {};
  const email = eventEmailOf(event, warn);
  if (email !== undefined) keys.email = email;
  keys.extid = userId;
  return { id: previousId, key: 'extid', keysconflict: 'merge', keys };
}

export const alias: Action = {
  name: 'alias',
  reads: ['previousId', 'userId', 'traits.email', 'context.traits.email', 'properties.email'],
  sends: ['GET /user (previous profile)', 'POST /user'],
  async perform(ctx) {
    const userId = userIdOf(ctx.event);
    const previousId = textOf(ctx.event.previousId);
    if (userId === null) return failed('alias requires userId (the id the previous profile is merged into)');
    if (previousId === undefined) return failed('alias requires previousId (the id being merged into userId)');
    if (previousId === userId) return skipped('previousId equals userId; nothing to merge');
    // SPEC.md §0: whether or not Sailthru has a profile to merge, later events of previousId alone go to userId.
    const link = async (): Promise<ActionResult | null> => {
      const problem = await recordLink(ctx.memory.links, previousId, userId);
      return problem === null ? null : { state: 'retry', reason: problem };
    };
    if (ctx.memory.mergedAnonymousIds.has(previousId)) {
      return (await link()) ?? skipped(`${previousId} was already merged into a userId profile`);
    }

    const profile = await lookupAnonymousProfile(ctx, previousId);
    if (profile.kind === 'error') return profile.result;
    if (profile.kind === 'absent') return (await link()) ?? skipped(`Sailthru has no profile with extid ${previousId}; nothing to merge`);
    if (profile.kind === 'unknown') return failed(`Could not look up the profile with extid ${previousId}: ${profile.reason}`);

    ctx.memory.carts?.forgetUser(userId);
    // Both profiles change: the next identify of either is sent whatever it holds. Forgotten
    // before the call: after a merge Sailthru applied but we did not see (timeout, crash), the
    // retry finds no profile to merge and would not come back here.
    const payload = aliasPayload(ctx.event, previousId, userId, (message) => ctx.warn(message));
    // A third profile holding the event's address is merged in too (keysconflict: merge).
    const problem = (await forgetSent(ctx, [previousId, userId])) ?? (await claimEmailBeforeProfileWrite(ctx, stringOf(field(objectOf(payload.keys), 'email')), userId));
    if (problem !== null) return { state: 'retry', reason: problem };
    const result = await ctx.sailthru.postUser(payload);
    if (!result.ok) return resultOfError(result);
    ctx.memory.mergedAnonymousIds.set(previousId, true);
    ctx.memory.knownProfiles.delete(previousId);
    return (await link()) ?? delivered;
  },
};
