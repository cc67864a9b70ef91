/**
 * Every `code` an HTTP error answer of this server can carry, in one list (as fastify keeps its
 * own `FST_ERR_*` codes). A code is stable: clients and alerts may match on it, while the
 * message beside it may be reworded. Each code is documented in docs/troubleshooting.md (a test
 * checks it), and the HTTP status of an answer comes from here, never from the call site.
 *
 * To add an area's codes (the admin API's, say), add entries with its own prefix (`ADMIN_…`)
 * and document them; nothing else needs to change.
 */
export const ERROR_CODES = {
  // ── ingest: the request cannot be read ───────────────────────────────
  INGEST_INVALID_JSON: { status: 400, summary: 'the body is empty or not JSON' },
  INGEST_INVALID_BODY: { status: 400, summary: 'the JSON is not a body this route takes' },
  INGEST_TOO_MANY_EVENTS: { status: 400, summary: 'more than 2,500 events in one request' },
  INGEST_BATCH_CONTEXT_TOO_DEEP: { status: 400, summary: "a batch's context or integrations nest deeper than an event may" },
  INGEST_INVALID_COMPRESSION: { status: 400, summary: 'a compressed body that does not decompress' },
  INGEST_INVALID_TEXT: { status: 400, summary: "the body's bytes are not text in its charset" },
  INGEST_CONTENT_LENGTH_MISMATCH: { status: 400, summary: 'the body is not as long as Content-Length says' },
  INGEST_BAD_REQUEST: { status: 400, summary: 'another malformed request' },
  // ── ingest: who is sending ───────────────────────────────────────────
  INGEST_MISSING_WRITE_KEY: { status: 401, summary: 'no write key on a tracking route' },
  INGEST_UNKNOWN_WRITE_KEY: { status: 401, summary: 'a write key this server does not know' },
  INGEST_MISSING_CREDENTIALS: { status: 401, summary: 'a webhook without Basic auth or X-Signature' },
  INGEST_INVALID_CREDENTIALS: { status: 401, summary: 'a webhook with an unknown key or a wrong signature' },
  INGEST_ORIGIN_NOT_ALLOWED: { status: 403, summary: 'a browser request from an origin not in CORS_ORIGINS' },
  // ── ingest: too large, wrong format ──────────────────────────────────
  INGEST_BODY_TOO_LARGE: { status: 413, summary: 'the body is over 500 KB (decompressed)' },
  INGEST_EVENT_TOO_LARGE: { status: 413, summary: 'a single-event route got an event over 32 KB' },
  INGEST_BATCH_CONTEXT_TOO_LARGE: { status: 413, summary: "a batch's context and integrations are over 16 KB, or with their copies the batch would be stored in over 4× the request" },
  INGEST_UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'a Content-Type other than JSON' },
  INGEST_UNSUPPORTED_CHARSET: { status: 415, summary: 'a charset this server cannot decode' },
  INGEST_UNSUPPORTED_ENCODING: { status: 415, summary: 'a Content-Encoding other than gzip or deflate' },
  // ── ingest: try again later ──────────────────────────────────────────
  INGEST_BACKLOG_FULL: { status: 429, summary: 'more than MAX_BACKLOG events wait for delivery' },
  INGEST_INTERNAL_ERROR: { status: 500, summary: 'a bug' },
  INGEST_STORE_FAILED: { status: 503, summary: 'the database refused the write' },
  INGEST_STORE_UNAVAILABLE: { status: 503, summary: 'the database did not answer a read' },
  INGEST_SHUTTING_DOWN: { status: 503, summary: 'the process is stopping' },
  // ── admin API (and the console's refusals) ───────────────────────────
  ADMIN_INVALID_INPUT: { status: 400, summary: 'a field, query or body the action cannot take (problems lists each)' },
  ADMIN_INVALID_REQUEST: { status: 400, summary: 'a request that cannot be read (bad JSON and the like)' },
  ADMIN_SECRETS_KEY_REQUIRED: { status: 400, summary: 'a Sailthru secret given while SECRETS_KEY is not set' },
  ADMIN_MISSING_TOKEN: { status: 401, summary: 'no Authorization: Bearer token' },
  ADMIN_WRONG_TOKEN: { status: 401, summary: 'a Bearer token that is not the admin token' },
  ADMIN_CONSOLE_CLOSED: { status: 403, summary: 'the server has no ADMIN_TOKEN' },
  ADMIN_NOT_SIGNED_IN: { status: 403, summary: 'a console page needing a session, without one' },
  ADMIN_VIEWER_READ_ONLY: { status: 403, summary: 'a change asked with a viewer token (ADMIN_TOKENS role viewer)' },
  ADMIN_NOT_FOUND: { status: 404, summary: 'no such destination, event or write key' },
  ADMIN_ALREADY_EXISTS: { status: 409, summary: 'a destination with that id exists' },
  ADMIN_ALREADY_REVOKED: { status: 409, summary: 'the write key is already revoked' },
  ADMIN_MAPPINGS_CHANGED: { status: 409, summary: 'a mappings change based on a revision someone else has since replaced' },
  ADMIN_NOT_A_DEAD_LETTER: { status: 409, summary: 'retry or drop of an event that is not failed' },
  ADMIN_NO_DESTINATION: { status: 409, summary: 'a test event while no destination exists' },
  ADMIN_BODY_TOO_LARGE: { status: 413, summary: 'a body over 1 MB' },
  ADMIN_UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'a body that is not JSON' },
  ADMIN_TOO_MANY_WRONG_TOKENS: { status: 429, summary: '20 wrong tokens from this address within 15 minutes' },
  ADMIN_INTERNAL_ERROR: { status: 500, summary: 'a bug; the log has it' },
  ADMIN_EVENT_NOT_VISIBLE_YET: { status: 503, summary: 'a test event stored but not yet in the delivery log' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** The admin API's codes. */
export type AdminErrorCode = Extract<ErrorCode, `ADMIN_${string}`>;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
