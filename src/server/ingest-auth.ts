import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Credentials of ingest requests: write keys sent as HTTP Basic usernames, and the HMAC
 * signatures of Segment's Webhooks destinations. Nothing here logs or returns a secret.
 */

/** A shared secret configured on a Segment Webhooks destination, and where its events go. */
export interface WebhookSecret {
  destinationId: string;
  secret: string;
}

/**
 * The username of `Authorization: Basic base64(user:password)`. Segment clients send the write
 * key as the username with an empty password (`key:`); a value without a colon is taken whole.
 */
export function basicAuthUsername(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon === -1 ? decoded : decoded.slice(0, colon);
  return username === '' ? undefined : username;
}

const SHA1_HEX = /^[0-9a-f]{40}$/i;

/**
 * The destination whose secret signed one of `signedTexts`, or null.
 *
 * `signature` is hex HMAC-SHA1; digests are compared with timingSafeEqual on equal-length
 * buffers, so the time taken says nothing about how much of a forged signature was right.
 */
export function destinationBySignature(
  signature: string | undefined,
  signedTexts: readonly (Buffer | string)[],
  secrets: readonly WebhookSecret[],
): string | null {
  if (signature === undefined) return null;
  const given = signature.trim();
  if (!SHA1_HEX.test(given)) return null;
  const givenDigest = Buffer.from(given, 'hex');
  for (const { destinationId, secret } of secrets) {
    if (secret === '') continue;
    for (const text of signedTexts) {
      const expected = createHmac('sha1', secret).update(text).digest();
      if (timingSafeEqual(expected, givenDigest)) return destinationId;
    }
  }
  return null;
}

/**
 * The first event of an array body, serialised as Segment serialises it when it signs.
 *
 * Webhooks (Actions) with batching computes X-Signature over `JSON.stringify(events[0])` only
 * (reference/segment-wire.md §3.5). The body is `JSON.stringify(events)`, so the first element,
 * parsed and serialised again, gives back those same bytes. Null when the body is not an array.
 *
 * That quirk means such a signature does not cover the events after the first one; Basic auth or
 * X-Segment-Signature (over the whole body) is the stronger choice where Segment offers it.
 */
export function firstEventSignedText(rawBody: Buffer, parseUnsanitized: () => unknown): string | null {
  if (firstNonWhitespace(rawBody) !== '[') return null;
  const parsed = parseUnsanitized();
  if (!Array.isArray(parsed) || parsed.length === 0) return null;
  return JSON.stringify(parsed[0]) ?? null;
}

function firstNonWhitespace(body: Buffer): string | undefined {
  for (const byte of body) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return String.fromCharCode(byte);
  }
  return undefined;
}
