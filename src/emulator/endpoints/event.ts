import { optionalObject, optionalText, requiredText, type Payload } from '../payload.ts';
import { isValidEmail } from '../profiles.ts';
import type { EventRecord } from '../records.ts';
import { invalidEmail, otherError, userNotFound } from '../sailthru-error.ts';
import type { EndpointContext } from './context.ts';

/** Sailthru answers these names with HTTP 400, in any case and with blanks around: they are its own system events. */
export const RESERVED_EVENT_NAMES = new Set(['send', 'cancel', 'open', 'click', 'purchase', 'daily']);

/** POST /event: records a custom event for the user, creating the profile when it is new. */
export function postEvent(payload: Payload, ctx: EndpointContext): unknown {
  const event = requiredText(payload, 'event');
  const id = requiredText(payload, 'id');
  const key = optionalText(payload, 'key') ?? 'email';
  const vars = optionalObject(payload, 'vars');
  if (RESERVED_EVENT_NAMES.has(event.trim().toLowerCase())) throw otherError(`Event name '${event}' is reserved`);
  if (key === 'email' && !isValidEmail(id)) throw invalidEmail(id);
  const profile = ctx.state.findOrCreate(key, id, ctx.nowMs);
  if (!profile) throw userNotFound(key, id);
  const record: EventRecord = { time: new Date(ctx.nowMs).toISOString(), event, id, key, sid: profile.sid };
  if (vars) record.vars = vars;
  const schedule = optionalText(payload, 'schedule_time');
  if (schedule) record.schedule_time = schedule;
  ctx.state.events.append(record);
  return { ok: true };
}
