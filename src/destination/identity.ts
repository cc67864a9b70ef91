import { laneKeyOf, type SegmentEvent } from '../segment/event.ts';
import { field, objectOf, pathOf, preview, stringOf } from './read.ts';

/** The Sailthru `extid` of the event's user: userId, else anonymousId (SPEC.md §0). */
export function extidOf(event: SegmentEvent): string | null {
  return laneKeyOf(event);
}

/** A real userId (Product Added/Removed and deletion key on it). */
export function userIdOf(event: SegmentEvent): string | null {
  return typeof event.userId === 'string' && event.userId !== '' ? event.userId : null;
}

export function anonymousIdOf(event: SegmentEvent): string | null {
  return typeof event.anonymousId === 'string' && event.anonymousId !== '' ? event.anonymousId : null;
}

/** Blanks and control characters, which no address Sailthru accepts contains. */
const FORBIDDEN = /[\s\u0000-\u001f\u007f]/u;
const MAX_EMAIL_LENGTH = 254;

/**
 * A plausible address (SPEC.md §0): one `@`, a non-empty local part, a domain with a dot (with
 * text on both sides of it), no blanks or control characters, at most 254 characters.
 */
export function looksLikeEmail(value: string): boolean {
  if (value.length > MAX_EMAIL_LENGTH || FORBIDDEN.test(value)) return false;
  const parts = value.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts as [string, string];
  const dot = domain.indexOf('.');
  return local !== '' && dot > 0 && dot < domain.length - 1 && !domain.endsWith('.');
}

/**
 * The email the event itself carries, in SPEC.md §0 order: traits.email, context.traits.email,
 * properties.email, then userId when it is an email address. An implausible address is skipped
 * (it would make Sailthru refuse the whole call, error 11) and the next source tried; `warn`, when
 * given, hears which field was skipped. Callers that resolve the event's email for sending pass it;
 * later look-ups of the same event do not, so each warning appears once.
 */
export function eventEmailOf(event: SegmentEvent, warn?: (message: string) => void): string | undefined {
  const candidates: Array<[string, unknown]> = [
    ['traits.email', field(objectOf(event.traits), 'email')],
    ['context.traits.email', pathOf(event.context, 'traits', 'email')],
    ['properties.email', field(objectOf(event.properties), 'email')],
  ];
  for (const [name, candidate] of candidates) {
    const email = stringOf(candidate)?.trim();
    if (email === undefined) continue;
    if (looksLikeEmail(email)) return email;
    warn?.(`${name} ${preview(email)} is not a plausible email address; ignored`);
  }
  const userId = userIdOf(event)?.trim();
  return userId !== undefined && looksLikeEmail(userId) ? userId : undefined;
}
