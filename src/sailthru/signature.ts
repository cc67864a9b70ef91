import { createHash } from 'node:crypto';

/**
 * Sailthru's request signature (reference/sailthru-api.md §1.3): md5 hex of the shared secret
 * followed by the *sorted* values of every parameter sent except `sig`. With `format=json` the
 * values are exactly api_key, "json" and the payload string; we still collect recursively and
 * sort, because the well-known shortcut (secret + api_key + "json" + payload) is wrong for keys
 * that sort after "json" (the `zz-key` vector).
 */
export function signatureValues(params: unknown, out: string[] = []): string[] {
  if (params === null || params === undefined) return out;
  if (Array.isArray(params)) {
    for (const v of params) signatureValues(v, out);
  } else if (typeof params === 'object') {
    for (const v of Object.values(params as Record<string, unknown>)) signatureValues(v, out);
  } else if (typeof params === 'boolean') {
    // As Sailthru's node client does; irrelevant for format=json requests but kept exact.
    out.push(params ? '1' : '0');
  } else {
    out.push(String(params));
  }
  return out;
}

/** Plain code-unit order, as Array.prototype.sort does and Sailthru's clients rely on. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function signature(params: Record<string, unknown>, sharedSecret: string): string {
  const values = signatureValues(params).sort(byCodeUnit);
  return createHash('md5').update(sharedSecret + values.join(''), 'utf8').digest('hex');
}

export interface WireParams {
  api_key: string;
  format: 'json';
  json: string;
  sig: string;
}

/** The four parameters every REST request carries; `json` is the exact string that was signed. */
export function signedParams(apiKey: string, sharedSecret: string, payload: unknown): WireParams {
  const json = JSON.stringify(payload ?? {});
  // signature() of { api_key, format, json } without walking it: its values are these three
  // strings (test/sailthru/signature.test.ts holds the two to the same answers).
  const values = [apiKey, 'json', json].sort(byCodeUnit);
  const sig = createHash('md5').update(sharedSecret + values.join(''), 'utf8').digest('hex');
  return { api_key: apiKey, format: 'json', json, sig };
}
