import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, failed, type Action, type Mapped } from '../action.ts';
import { flatten, isEmptyVars } from '../flatten.ts';
import { extidOf, userIdOf } from '../identity.ts';
import { objectOf, stringOf, type JsonObject } from '../read.ts';
import { resultOfError } from '../sailthru-port.ts';

/** Event names Sailthru's POST /event answers with HTTP 400 (reference §2.4). */
export const RESERVED_EVENT_NAMES: readonly string[] = ['send', 'cancel', 'open', 'click', 'purchase', 'daily'];

/** SPEC.md §3, the POST /event payload. Pure. */
export function customEventPayload(event: SegmentEvent): Mapped<JsonObject> {
  const name = stringOf(event.event);
  if (name === undefined) return { ok: false, reason: 'track event has no name (the event field is missing or empty)' };
  // Sailthru's check ignores case and surrounding blanks (SPEC.md §3): `Purchase`, ` send `.
  if (RESERVED_EVENT_NAMES.includes(name.trim().toLowerCase())) {
    return {
      ok: false,
      reason: `Sailthru rejects the event name "${name}" (reserved: ${RESERVED_EVENT_NAMES.join(', ')}); rename the event`,
    };
  }
  const payload: JsonObject = { id: extidOf(event) ?? '', key: 'extid', event: name };
  const { vars, warnings } = flatten(objectOf(event.properties), 'properties');
  if (!isEmptyVars(vars)) payload.vars = vars;
  return { ok: true, value: payload, warnings };
}

export const trackEvent: Action = {
  name: 'custom event',
  reads: ['event', 'userId', 'anonymousId', 'properties'],
  sends: ['POST /event'],
  async perform(ctx) {
    const mapped = customEventPayload(ctx.event);
    if (!mapped.ok) return failed(mapped.reason);
    ctx.warn(...mapped.warnings);
    const result = await ctx.sailthru.postEvent(mapped.value);
    if (!result.ok) return resultOfError(result);
    // POST /event creates the profile it names: an anonymous visitor's profile now exists.
    if (userIdOf(ctx.event) === null) ctx.memory.knownProfiles.set(ctx.extid, true);
    return delivered;
  },
};
