/**
 * The shapes the Sailthru client hands to the rest of the program. Every call ends in exactly one
 * of SailthruOk / SailthruError; nothing throws for a response Sailthru (or the network) gave us.
 */
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/**
 * retryable: try the same request again later (network, timeout, 5xx but 501, 429/43, error 9,
 *            an answer cut off at the size cap, a 2xx that does not look like a success).
 * account: every later request of this account would fail the same way (3, 4, 5, 21, HTTP 401):
 *          pause the destination rather than dead-letter events.
 * redirect: the URL answered with a 3xx, which is never followed (it could send the signed
 *           request elsewhere); every later request would be redirected too: pause the destination.
 * permanent: this request will never succeed as it is.
 */
export type ErrorClass = 'retryable' | 'account' | 'redirect' | 'permanent';

/** One Sailthru call as the delivery log shows it: never the secret, never `sig`. */
export interface CallRecord {
  method: HttpMethod;
  /** e.g. `/user`, `/purchase`, `/v1/track/event/pageview` */
  endpoint: string;
  /** The logical payload (what went inside `json`, or the page-view JSON body). */
  payload: unknown;
  /** HTTP status; 0 when no whole response arrived (network error, timeout, a connection cut mid-body). */
  status: number;
  /** Sailthru error code when the answer was an error envelope. */
  errorCode?: number;
  errorMessage?: string;
  durationMs: number;
  /** The parsed response body when it was JSON (for the event tester and the delivery log), bounded by answer-record.ts. */
  response?: unknown;
}

export interface RateLimitInfo {
  /** requests per window (Sailthru: per minute) for this method + endpoint */
  limit: number;
  remaining: number;
  /** UNIX epoch seconds when the window resets */
  reset: number;
}

export interface SailthruOk<T = unknown> {
  ok: true;
  status: number;
  body: T;
  call: CallRecord;
  rateLimit?: RateLimitInfo;
}

export interface SailthruError {
  ok: false;
  /** HTTP status; 0 for network errors and timeouts. */
  status: number;
  /** Sailthru's numeric `error`, when the body carried one. */
  code: number | null;
  message: string;
  class: ErrorClass;
  /** For retryable errors with a known wait (429 / error 43: until X-Rate-Limit-Reset). */
  retryAfterMs?: number;
  call: CallRecord;
  rateLimit?: RateLimitInfo;
}

export type SailthruResult<T = unknown> = SailthruOk<T> | SailthruError;

/**
 * Something that decides when a request may go out (the rate limiter lives in delivery/, the
 * client only asks). `acquire` resolves when the request may be sent; `observe` feeds back the
 * X-Rate-Limit-* headers Sailthru answered with so the limiter can correct itself.
 */
export interface RequestGate {
  acquire(method: HttpMethod, endpoint: string): Promise<void>;
  observe?(method: HttpMethod, endpoint: string, info: RateLimitInfo): void;
}

export interface SailthruCredentials {
  apiKey: string;
  sharedSecret: string;
  /** default https://api.sailthru.com */
  apiUrl?: string;
  /** default https://api.sail-track.com */
  trackUrl?: string;
  customerId?: string;
}

/** GET /user answer (the parts the destination reads). */
export interface SailthruUser {
  keys?: { email?: string; extid?: string; sid?: string; cookie?: string; [k: string]: unknown };
  vars?: Record<string, unknown>;
  lists?: Record<string, unknown>;
  optout_email?: string;
  purchase_incomplete?: SailthruStoredCart | null;
  [k: string]: unknown;
}

/** An incomplete purchase as GET /user returns it (images.full is a plain string there). */
export interface SailthruStoredCart {
  time?: string;
  items?: Array<{
    id: string;
    qty: number;
    title?: string;
    price: number;
    url?: string;
    tags?: unknown;
    images?: { full?: string | { url: string }; thumb?: string | { url: string } };
    vars?: Record<string, unknown>;
  }>;
  vars?: Record<string, unknown>;
  adjustments?: Array<{ title: string; price: number }>;
  [k: string]: unknown;
}
