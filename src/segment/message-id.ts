import { createHash, randomUUID } from 'node:crypto';
import { MAX_MESSAGE_ID_LENGTH } from './limits.ts';

/** A messageId for an event the client sent without one (RudderStack does the same). */
export function generateMessageId(): string {
  return `ingest-${randomUUID()}`;
}

/**
 * Keeps a client's messageId within Segment's 100 characters.
 *
 * Cutting a long id short could make two different events share an id, and the store would then
 * drop the second as a duplicate. So a long id keeps its first characters (still readable in the
 * delivery log) and ends with the SHA-1 of the whole id: two different ids stay different, and the
 * same id bounds to the same value on every retry, so deduplication still works.
 */
export function boundMessageId(id: string): string {
  if (id.length <= MAX_MESSAGE_ID_LENGTH) return id;
  const digest = createHash('sha1').update(id, 'utf8').digest('hex');
  return `${id.slice(0, MAX_MESSAGE_ID_LENGTH - digest.length - 1)}-${digest}`;
}
