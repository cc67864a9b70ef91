/**
 * CORS for the ingest routes, so browser SDKs (analytics.js, RudderStack JS) can post events from
 * pages on other origins. Only the ingest plugin uses this: the console, `/api` and `/metrics`
 * never answer cross-origin requests.
 *
 * Decided:
 * - Credentials are never allowed (no `Access-Control-Allow-Credentials`): a write key is public in
 *   a browser, as with Segment, and no cookie of this server means anything to ingest.
 * - With a list of origins, a request whose `Origin` is not on it is refused (403), not only left
 *   without CORS headers: a `text/plain` POST (sendBeacon) needs no preflight, and the browser
 *   would send it, and the server store it, whatever the headers said. Requests without `Origin`
 *   (server-side clients) are not browsers' and are not affected.
 */

export type CorsOrigins = '*' | readonly string[];

/**
 * Headers a browser may always send. A preflight also gets back whatever other headers it asks
 * for (decided: SDKs add their own, e.g. RudderStack's `SentAt` and `RSA-Retry-Attempt`, and a
 * fixed list breaks on the next SDK version; with credentials never allowed, a header grants
 * nothing a server-side client could not send anyway).
 */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Content-Encoding', 'AnonymousId', 'X-Retry-Count', 'X-Signature'];
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const MAX_REQUESTED_HEADERS = 32;
/** Long enough that a page's preflight is answered once; browsers cap it lower (Chromium: 2 h). */
export const CORS_MAX_AGE_SECONDS = 86_400;

export type CorsDecision =
  /** Not a cross-origin browser request: no CORS headers. */
  | { kind: 'none' }
  | { kind: 'allowed'; headers: Record<string, string> }
  | { kind: 'refused'; origin: string };

export class IngestCors {
  private readonly allowed: ReadonlySet<string> | null;

  constructor(origins: CorsOrigins) {
    this.allowed = origins === '*' ? null : new Set(origins);
  }

  /** The headers every ingest answer to this request carries (errors included). */
  decide(originHeader: string | string[] | undefined): CorsDecision {
    const origin = Array.isArray(originHeader) ? originHeader[0] : originHeader;
    if (origin === undefined || origin === '') return { kind: 'none' };
    if (this.allowed === null) {
      return { kind: 'allowed', headers: { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Retry-After' } };
    }
    if (!this.allowed.has(origin)) return { kind: 'refused', origin };
    // The answer depends on Origin: caches must keep one per origin.
    return {
      kind: 'allowed',
      headers: { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'Retry-After', vary: 'Origin' },
    };
  }

  /** The extra headers of a preflight (`OPTIONS`) answer to `Access-Control-Request-Headers`. */
  preflightHeaders(requestedHeaders: string | string[] | undefined): Record<string, string> {
    const requested = (Array.isArray(requestedHeaders) ? requestedHeaders.join(',') : (requestedHeaders ?? ''))
      .split(',')
      .map((name) => name.trim())
      .filter((name) => HEADER_NAME.test(name))
      .slice(0, MAX_REQUESTED_HEADERS);
    const known = new Set(CORS_ALLOWED_HEADERS.map((name) => name.toLowerCase()));
    const extra = requested.filter((name) => !known.has(name.toLowerCase()));
    return {
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': [...CORS_ALLOWED_HEADERS, ...extra].join(', '),
      'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      // The allowed headers depend on what was asked.
      vary: 'Origin, Access-Control-Request-Headers',
    };
  }
}
