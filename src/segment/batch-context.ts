import type { JsonObject } from './event.ts';
import { UNSAFE_KEYS } from './safe-json.ts';

/**
 * Merging a batch's top-level `context` and `integrations` into each of its events.
 *
 * Decided: one level deep, the event winning. The keys of the batch's object and the event's
 * object are combined; where both have a key, the event's value is kept whole (a nested object
 * such as `context.library` is not merged further). That is what Segment's tracking API does
 * with batch-level context, and it keeps the result predictable: an event never ends up with a
 * `context.page` made of two different pages.
 */
export function mergeOneLevel(batchLevel: JsonObject | undefined, eventLevel: JsonObject | undefined): JsonObject | undefined {
  if (batchLevel === undefined) return eventLevel;
  const merged: JsonObject = {};
  for (const source of [batchLevel, eventLevel ?? {}]) {
    for (const key of Object.keys(source)) {
      if (UNSAFE_KEYS.has(key)) continue;
      // defineProperty, not assignment: a key can never reach the prototype even if a caller
      // hands in an object that was not parsed by safe-json.
      Object.defineProperty(merged, key, { value: source[key], enumerable: true, writable: true, configurable: true });
    }
  }
  return merged;
}
