import { laneKeyOf, type SegmentEvent } from '../segment/event.ts';
import { field, objectOf, pathOf, stringOf } from './read.ts';

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

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function looksLikeEmail(value: string): boolean {
  return EMAIL.test(value);
}

/**
 * The email the event itself carries, in SPEC.md §0 order: traits.email, context.traits.email,
 * properties.email, then userId when it is an email address.
 */
export function eventEmailOf(event: SegmentEvent): string | undefined {
  const candidates = [
    field(objectOf(event.traits), 'email'),
    pathOf(event.context, 'traits', 'email'),
    field(objectOf(event.properties), 'email'),
  ];
  for (const candidate of candidates) {
    const email = stringOf(candidate);
    if (email !== undefined) return email.trim();
  }
  const userId = userIdOf(event);
  return userId !== null && looksLikeEmail(userId.trim()) ? userId.trim() : undefined;
}
