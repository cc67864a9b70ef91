import { optionalObject, optionalText, type Payload } from './payload.ts';
import { isValidEmail, normalizeKeyValue, type Profile } from './profiles.ts';
import { rfc2822 } from './dates.ts';
import { invalidEmail, otherError, userNotFound } from './sailthru-error.ts';
import type { EmulatorState } from './state.ts';

export const OPTOUT_LEVELS = new Set(['none', 'all', 'basic', 'blast']);

interface CheckedUpdate {
  key: string;
  id: string | undefined;
  keys: Array<[type: string, value: string]>;
  merge: boolean;
  vars: Record<string, unknown> | undefined;
  lists: Record<string, unknown> | undefined;
  optout: string | undefined;
}

function check(payload: Payload, defaultConflict: 'error' | 'merge'): CheckedUpdate {
  const key = optionalText(payload, 'key') ?? 'email';
  const id = optionalText(payload, 'id');
  if (key === 'email' && id !== undefined && !isValidEmail(id)) throw invalidEmail(id);
  const keys: Array<[string, string]> = [];
  for (const [type, raw] of Object.entries(optionalObject(payload, 'keys') ?? {})) {
    // Sailthru assigns sids itself; a null or empty key is "leave it".
    if (type === 'sid' || raw === null || raw === undefined || raw === '') continue;
    if (typeof raw !== 'string' && typeof raw !== 'number') throw otherError(`Invalid value for keys.${type}`);
    const value = normalizeKeyValue(type, String(raw));
    if (type === 'email' && !isValidEmail(value)) throw invalidEmail(String(raw));
    keys.push([type, value]);
  }
  const conflict = optionalText(payload, 'keysconflict') ?? defaultConflict;
  if (conflict !== 'error' && conflict !== 'merge') throw otherError(`Invalid keysconflict: ${conflict}`);
  const optout = optionalText(payload, 'optout_email');
  if (optout !== undefined && !OPTOUT_LEVELS.has(optout)) throw otherError(`Invalid optout_email: ${optout}`);
  return {
    key,
    id,
    keys,
    merge: conflict === 'merge',
    vars: optionalObject(payload, 'vars'),
    lists: optionalObject(payload, 'lists'),
    optout,
  };
}

/**
 * A profile update as POST /user (and each line of an update job) performs it:
 * - the target is the profile `id` names under `key` (default email); created when missing
 *   (never for key sid). Without `id`, the owner of the first of `keys` that exists, else new.
 * - every key in `keys` that belongs to another profile is a conflict: with `keysconflict: merge`
 *   that profile is merged into the target and deleted; otherwise (default `error`) nothing
 *   changes and the answer is error 99. When the target does not exist yet and merging, the
 *   first conflicting profile becomes the target (it keeps its sid) and takes the `id` key.
 * - `vars` are set one by one (null removes a var), `lists` {name: 1|0} join/leave,
 *   `optout_email` is set.
 * Everything is checked before anything changes, so an error leaves the state as it was.
 */
export function applyUserUpdate(
  state: EmulatorState,
  payload: Payload,
  nowMs: number,
  defaultConflict: 'error' | 'merge' = 'error',
): Profile {
  const update = check(payload, defaultConflict);
  const store = state.profiles;
  let target: Profile | undefined;
  if (update.id !== undefined) {
    target = store.find(update.key, update.id);
    if (!target && update.key === 'sid') throw userNotFound('sid', update.id);
  } else {
    for (const [type, value] of update.keys) {
      target = store.find(type, value);
      if (target) break;
    }
  }
  const others: Profile[] = [];
  for (const [type, value] of update.keys) {
    const owner = store.find(type, value);
    if (owner && owner !== target && !others.includes(owner)) others.push(owner);
  }
  if (others.length > 0 && !update.merge) {
    const [type, value] = update.keys.find(([t, v]) => store.find(t, v) === others[0])!;
    throw otherError(
      `Key conflict: ${type} '${value}' already belongs to another user (sid ${others[0]!.sid}); send keysconflict: "merge" to merge them`,
    );
  }
  if (!target) {
    target = others.shift() ?? store.create(nowMs);
    if (update.id !== undefined) store.setKey(target, update.key, update.id);
  }
  for (const other of others) state.deletedUsers.push(store.merge(target, other, nowMs));
  for (const [type, value] of update.keys) store.setKey(target, type, value);
  if (update.vars) {
    for (const [name, value] of Object.entries(update.vars)) {
      if (value === null) delete target.vars[name];
      else target.vars[name] = value;
    }
  }
  if (update.lists) {
    for (const [list, member] of Object.entries(update.lists)) {
      if (member === 0 || member === '0' || member === false || member === null) delete target.lists[list];
      else if (!(list in target.lists)) target.lists[list] = rfc2822(nowMs);
    }
  }
  if (update.optout !== undefined) target.optout_email = update.optout;
  target.updatedAt = new Date(nowMs).toISOString();
  return target;
}

