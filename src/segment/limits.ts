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
 * What a batch is stored in, events and the copies of its context together, is at most this many
 * times the request's bytes (decompressed, in its charset), leaving aside the few fields ingest
 * adds to each event (docs/decisions.md, "Batch context"). A UTF-8 body leaves its copies 3× its
 * size; a body in a charset that grows as UTF-8 (€ is one byte in windows-1252, three in UTF-8)
 * leaves less.
 */
export const MAX_STORED_PER_REQUEST_BYTE = 4;
