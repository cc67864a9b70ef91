import { delivered, failed, type ActionContext } from '../action.ts';
import { eventEmailOf } from '../identity.ts';
import type { ActionResult } from '../outcome.ts';
import type { JsonObject } from '../read.ts';
import { resultOfError } from '../sailthru-port.ts';
import { forgetBeforeProfileWrite } from '../unchanged-profiles.ts';

/**
 * A mapping's list subscribe / unsubscribe (docs/mappings.md): one POST /user that joins (1) or
 * leaves (0) the named list, addressed by extid, with the event's email as a key when it has one.
 * Pure.
 */
export function listMembershipPayload(extid: string, listName: string, member: 0 | 1, email: string | undefined): JsonObject {
  const payload: JsonObject = { id: extid, key: 'extid' };
  if (email !== undefined) payload.keys = { email };
  const lists: JsonObject = {};
  // defineProperty: a list named `__proto__` stays a list name.
  Object.defineProperty(lists, listName, { value: member, enumerable: true, writable: true, configurable: true });
  payload.lists = lists;
  return payload;
}

export async function performListMembership(ctx: ActionContext, listName: string | undefined, member: 0 | 1): Promise<ActionResult> {
  if (listName === undefined) {
    return failed(`no list name: the mapping's listName field found none in the event (set a fixed list name or a path the event carries)`);
  }
  const email = eventEmailOf(ctx.event, (message) => ctx.warn(message));
  // The profile's lists change: the user's next identify is sent whatever it holds.
  const problem = await forgetBeforeProfileWrite(ctx, [ctx.extid]);
  if (problem !== null) return { state: 'retry', reason: problem };
  const result = await ctx.sailthru.postUser(listMembershipPayload(ctx.extid, listName.trim(), member, email));
  return result.ok ? delivered : resultOfError(result);
}
