import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Sailthru's request signature (reference/sailthru-api.md §1.3): md5 hex of the shared secret
 * followed by the values of every sent parameter except `sig`, sorted by code unit. With
 * `format=json` those values are api_key, "json" and the json string.
 */
export function signatureOf(values: readonly string[], secret: string): string {
  const sorted = [...values].sort();
  return createHash('md5').update(secret + sorted.join(''), 'utf8').digest('hex');
}

export function signatureMatches(values: readonly string[], secret: string, sig: string): boolean {
  const expected = Buffer.from(signatureOf(values, secret), 'utf8');
  const given = Buffer.from(sig.toLowerCase(), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
