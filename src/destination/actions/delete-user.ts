import { delivered, skipped, type Action } from '../action.ts';
import { isUserNotFound, resultOfError } from '../sailthru-port.ts';

/**
 * SPEC.md §7: a Segment `delete` notification or a `User Deleted` track event removes the
 * profile. The destination forgets what it remembered about the user too.
 */
export const deleteUser: Action = {
  name: 'user deletion',
  reads: ['userId', 'anonymousId (when there is no userId)'],
  sends: ['DELETE /user'],
  async perform(ctx) {
    ctx.memory.emails.delete(ctx.extid);
    ctx.memory.knownProfiles.delete(ctx.extid);
    ctx.memory.carts?.forgetUser(ctx.extid);
    const result = await ctx.sailthru.deleteUser({ id: ctx.extid, key: 'extid' });
    if (!result.ok && !isUserNotFound(result)) return resultOfError(result);
    // The user is gone: its anonymousIds must not lead later events back to it (SPEC.md §0).
    try {
      await ctx.memory.links.forgetUser(ctx.extid);
    } catch (err) {
      return { state: 'retry', reason: `could not forget the anonymousIds of ${ctx.extid}: ${err instanceof Error ? err.message : String(err)}` };
    }
    return result.ok ? delivered : skipped(`Sailthru has no profile with extid ${ctx.extid}; nothing to delete`);
  },
};
