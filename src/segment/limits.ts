/**
 * Segment's published ingest limits (reference/segment-wire.md §3.1). Clients such as
 * analytics-node cut their batches to fit them, so matching them exactly keeps us a drop-in target.
 */

/** One event, serialised as JSON (UTF-8 bytes). */
export const MAX_EVENT_BYTES = 32 * 1024;

/** One request body (UTF-8 bytes). analytics-node cuts its batches at 480 KB to stay under it. */
export const MAX_REQUEST_BYTES = 500 * 1024;

/** Events in one batch; more fail the whole request. */
export const MAX_BATCH_EVENTS = 2_500;

/** Segment dedupes on messageIds of at most this many characters. */
export const MAX_MESSAGE_ID_LENGTH = 100;

/**
 * Nesting depth of one event. Real analytics payloads stay within a handful of levels; the cap
 * keeps recursive code downstream (serialising, flattening into Sailthru vars) off the stack limit.
 */
export const MAX_EVENT_DEPTH = 64;

/**
 * A batch's top-level `context` plus `integrations`, serialised. They are copied into every event
 * of the batch, so they are bounded on their own: a real batch context (library, device, page) is
 * one to three KB.
 */
export const MAX_BATCH_CONTEXT_BYTES = 16 * 1024;

/**
 * The copies of a batch's context may add at most this many times the request's own bytes to
 * what is stored. With the few fields ingest adds to each event, a batch is stored in at most
 * about 4× the bytes it arrived in, however its context and events are shaped
 * (docs/decisions.md, "Batch context").
 */
export const MAX_BATCH_CONTEXT_COPIES = 3;
