import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, skipped, type Action } from '../action.ts';
import { isUserNotFound, resultOfError } from '../sailthru-port.ts';
import { forgetDeletedUser } from '../unchanged-profiles.ts';
import type { DestinationSettings } from '../settings.ts';

/**
 * SPEC.md §7: a Segment `delete` notification or a `User Deleted` track event removes the
 * profile. The destination forgets what it remembered about the user too.
 *
 * Only from a sender that is trusted to delete (docs/decisions.md, "Deletion from events"): a
 * write key is public wherever a browser sends events, so by default (`deletionFromEvents:
 * signed`) a deletion counts only when its request was signed with the Webhooks shared secret or
 * came from an admin.
 */
export const deleteUser: Action = {
  name: 'user deletion',
  reads: [
    'userId',
    'anonymousId (when there is no userId)',
    'authenticatedBy (set by ingest)',
  ],
  sends: ['DELETE /user'],
  async perform(ctx) {
    const untrusted = untrustedDeletion(ctx.event, ctx.settings);
    if (untrusted !== null) return skipped(untrusted);
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
    // A profile created again after the deletion gets its first identify whole, and no row of the
    // memory names the deleted user (by key, or as who last posted an address).
    const problem = await forgetDeletedUser(ctx, ctx.extid);
    if (problem !== null) return { state: 'retry', reason: problem };
    return result.ok ? delivered : skipped(`Sailthru has no profile with extid ${ctx.extid}; nothing to delete`);
  },
};

/** Credentials that only the operator holds. */
const SIGNED = new Set(['webhook-signature', 'admin']);

const SENDERS: Record<string, string> = {
  'write-key': 'with a write key',
  'webhook-unsigned-batch-member': 'in a webhook batch whose signature covers only its first event',
};

/** Why a deletion is not honoured, or null when it is. */
function untrustedDeletion(event: SegmentEvent, settings: DestinationSettings): string | null {
  if (settings.deletionFromEvents === 'write-key') return null;
  const by = event.authenticatedBy;
  if (typeof by === 'string' && SIGNED.has(by)) return null;
  const how = typeof by === 'string' ? (SENDERS[by] ?? `authenticated by ${JSON.stringify(by).slice(0, 40)}`) : 'before senders were recorded (no authenticatedBy)';
  return (
    `deletion not honoured: the event came ${how}, and deletionFromEvents is "signed" ` +
    '(only a deletion signed with the Webhooks shared secret, or from the console, admin API or delete-user command, deletes a profile); ' +
    'delete the user from the console, or set deletionFromEvents to "write-key"'
  );
}
