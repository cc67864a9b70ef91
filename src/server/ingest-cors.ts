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

/** What a browser may send: the SDKs' own headers (RudderStack's AnonymousId) included. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Content-Encoding', 'AnonymousId', 'X-Retry-Count', 'X-Signature'];
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

  /** The extra headers of a preflight (`OPTIONS`) answer. */
  preflightHeaders(): Record<string, string> {
    return {
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
      'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
    };
  }
}
