import type { SegmentEvent } from '../segment/event.ts';
import { field, objectOf, preview } from './read.ts';

/** Order properties that carry the campaign's message id: sent as `message_id`, never as vars. */
export const MESSAGE_ID_PROPERTIES = ['message_id', 'sailthru_bid'] as const;

/**
 * SPEC.md §5, campaign revenue attribution: Sailthru credits a purchase to the campaign whose
 * `message_id` it carries, which is the value of the `sailthru_bid` cookie its links set. Read
 * from `integrations.Sailthru.message_id`, then `properties.message_id`, then
 * `properties.sailthru_bid`. A value that is not text is skipped with a warning naming it (a
 * guessed id would credit the wrong campaign). Pure.
 */
export function messageIdOf(event: SegmentEvent): { messageId?: string; warnings: string[] } {
  const warnings: string[] = [];
  const properties = objectOf(event.properties);
  const sources: Array<[string, unknown]> = [
    ['integrations.Sailthru.message_id', field(objectOf(field(objectOf(event.integrations), 'Sailthru')), 'message_id')],
    ['properties.message_id', field(properties, 'message_id')],
    ['properties.sailthru_bid', field(properties, 'sailthru_bid')],
  ];
  for (const [name, value] of sources) {
    if (value === undefined || value === null) continue;
    // A cookie value is text; an id written as a number is still that id.
    const text = typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
    if (text !== undefined && text !== '') return { messageId: text, warnings };
    warnings.push(`${name} ${preview(value)} ignored: the campaign's message id (the sailthru_bid cookie's value) is text`);
  }
  return { warnings };
}
