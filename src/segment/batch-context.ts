import type { JsonObject, SegmentEvent } from './event.ts';
import { MAX_BATCH_CONTEXT_BYTES, MAX_BATCH_CONTEXT_COPIES, MAX_EVENT_DEPTH } from './limits.ts';
import { nestsDeeperThan } from './nesting.ts';
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

/** The batch-level objects copied into each event. */
export interface BatchLevel {
  context?: JsonObject;
  integrations?: JsonObject;
}

export type BatchContextProblem = 'batch-context-too-large' | 'batch-context-too-deep';

export type BatchContextCheck = { ok: true; sizes: BatchLevelSizes } | { ok: false; problem: BatchContextProblem; error: string };

/** Serialised bytes of each key of the batch's context and integrations (key, quotes, colon, comma). */
export interface BatchLevelSizes {
  context: ReadonlyMap<string, number>;
  integrations: ReadonlyMap<string, number>;
  total: number;
}

/**
 * The batch's context and integrations on their own: nested no deeper than an event may be once
 * they are in it, and no larger than MAX_BATCH_CONTEXT_BYTES. Checked before anything serialises
 * them (a context of 100,000 nested arrays would overflow the stack of JSON.stringify).
 */
export function checkBatchLevel(batch: BatchLevel): BatchContextCheck {
  if (batch.context === undefined && batch.integrations === undefined) return { ok: true, sizes: { context: new Map(), integrations: new Map(), total: 0 } };
  // As an event holding only them: the event itself is the first level.
  if (nestsDeeperThan({ context: batch.context ?? {}, integrations: batch.integrations ?? {} }, MAX_EVENT_DEPTH)) {
    return {
      ok: false,
      problem: 'batch-context-too-deep',
      error: `The batch's "context" or "integrations" nests objects or arrays deeper than an event may (${MAX_EVENT_DEPTH} levels, counting the event)`,
    };
  }
  const context = keySizes(batch.context);
  const integrations = keySizes(batch.integrations);
  const total = sum(context) + sum(integrations);
  if (total > MAX_BATCH_CONTEXT_BYTES) {
    return {
      ok: false,
      problem: 'batch-context-too-large',
      error:
        `The batch's "context" and "integrations" are ${total} bytes as JSON, over the limit of 16 KB (${MAX_BATCH_CONTEXT_BYTES} bytes): ` +
        'they are copied into every event of the batch; send large context with each event instead',
    };
  }
  return { ok: true, sizes: { context, integrations, total } };
}

/**
 * Bytes the batch-level values add to the stored events: for each event, the keys it took from
 * the batch (the very same value, not one of its own). Refused when over MAX_BATCH_CONTEXT_COPIES
 * times the request's bytes, so thousands of tiny events cannot each carry a copy of one large
 * context.
 */
export function checkBatchCopies(
  events: readonly SegmentEvent[],
  batch: BatchLevel,
  sizes: BatchLevelSizes,
  requestBytes: number,
): { ok: true } | { ok: false; problem: 'batch-context-too-large'; error: string } {
  if (sizes.total === 0) return { ok: true };
  let copied = 0;
  for (const event of events) {
    copied += copiedFrom(event.context, batch.context, sizes.context) + copiedFrom(event.integrations, batch.integrations, sizes.integrations);
  }
  const budget = MAX_BATCH_CONTEXT_COPIES * requestBytes;
  if (copied <= budget) return { ok: true };
  return {
    ok: false,
    problem: 'batch-context-too-large',
    error:
      `The batch's "context" and "integrations" (${sizes.total} bytes) copied into its ${events.length} events would add ${copied} bytes, ` +
      `over ${MAX_BATCH_CONTEXT_COPIES}× the request's ${requestBytes} bytes: send fewer events per batch, or the context with each event`,
  };
}

function copiedFrom(merged: unknown, batchLevel: JsonObject | undefined, sizes: ReadonlyMap<string, number>): number {
  if (batchLevel === undefined || typeof merged !== 'object' || merged === null) return 0;
  const record = merged as JsonObject;
  let bytes = 0;
  for (const [key, size] of sizes) if (Object.hasOwn(record, key) && record[key] === batchLevel[key]) bytes += size;
  return bytes;
}

function keySizes(object: JsonObject | undefined): Map<string, number> {
  const sizes = new Map<string, number>();
  if (object === undefined) return sizes;
  for (const key of Object.keys(object)) {
    if (UNSAFE_KEYS.has(key)) continue;
    // Depth is checked first: this cannot overflow the stack.
    const value = JSON.stringify(object[key]) ?? '';
    sizes.set(key, Buffer.byteLength(JSON.stringify(key), 'utf8') + 2 + Buffer.byteLength(value, 'utf8'));
  }
  return sizes;
}

function sum(sizes: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}
