import type { BoundedCache } from './bounded-cache.ts';
import { LAST_MESSAGE_ID_VAR } from './cart.ts';
import type { ActionResult } from './outcome.ts';
import { field, objectOf, stringOf } from './read.ts';

/**
 * A cart's marker that names none of the changes in hand (docs/decisions.md, "Coalescing a
 * backlog"). A worker that dies after its group's POST /purchase landed, before settling, leaves
 * the group queued with the cart carrying the group's last messageId. Its retry re-forms the
 * group from the same head; should the group now be shorter (the window size, the mappings or
 * `coalesceBacklog` changed in between), the marker names an event queued after it, and the
 * changes in hand were in that POST (it carried the whole cart). Only the service's store knows
 * the lane's order: nothing on the wire says it.
 */
export interface CartMarkers {
  /**
   * Of `markers`, one that names an event still queued (never attempted) in the lane of the event
   * `messageId`, after it; null when none does.
   */
  queuedAfter(markers: readonly string[], messageId: string): Promise<string | null>;
}

/**
 * Markers looked up at most: a cart's changes touch few items, and a huge cart in an answer must
 * not become a huge query.
 */
export const MAX_MARKERS = 64;

/** The markers the stored cart carries: the purchase's, then the items', last first, each once, at most MAX_MARKERS. */
export function markersOf(stored: unknown): string[] {
  const cart = objectOf(stored);
  const found = new Set<string>();
  const add = (vars: unknown) => {
    const marker = stringOf(field(objectOf(vars), LAST_MESSAGE_ID_VAR));
    if (marker !== undefined) found.add(marker);
  };
  add(field(cart, 'vars'));
  const items = field(cart, 'items');
  // A change appends a new product at the end: the latest changes' markers are likelier there.
  if (Array.isArray(items)) for (let i = items.length - 1; i >= 0 && found.size < MAX_MARKERS; i--) add(field(objectOf(items[i]), 'vars'));
  return [...found];
}

/**
 * When the stored cart carries the marker of an event queued after every change in hand: every
 * change was in the POST that carried it, and is not applied again. Asked only of markers that
 * name no change in hand and that this destination did not post itself (`posted`:
 * an event this process posted and Sailthru confirmed is settled in lane order, never queued
 * after a later retry's changes), so delivering the next change of a cart costs no lookup when
 * the same process posted the previous one.
 */
export async function laterMarkerOf(
  lanes: CartMarkers | null,
  posted: BoundedCache<string, true>,
  stored: unknown,
  messageIds: ReadonlyArray<string | undefined>,
): Promise<{ marker: string | null } | { result: ActionResult }> {
  const own = messageIds.filter((id): id is string => id !== undefined);
  const last = own.at(-1);
  if (lanes === null || last === undefined) return { marker: null };
  const markers = markersOf(stored).filter((m) => !own.includes(m) && !posted.has(m));
  if (markers.length === 0) return { marker: null };
  try {
    return { marker: await lanes.queuedAfter(markers, last) };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { result: { state: 'retry', reason: `could not look up the cart's marker in the queue: ${detail}` } };
  }
}
