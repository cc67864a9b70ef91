/**
 * The origin and path of a request URL, as undici's `request(url)` derives them (a WHATWG URL's
 * `origin`, and `pathname` + `search`), without parsing the URL on every call: the part before
 * the query is one of a handful of strings (the API's endpoints, the tracking URL), parsed once
 * and kept; the query, when there is one, is URLSearchParams output, which URL parsing leaves as
 * it is. Anything else (a fragment, a query holding characters URL parsing would re-encode,
 * a scheme other than http or https, an unparseable URL) gets `undefined`: the caller hands the
 * whole URL to undici, which parses (or refuses) it as before.
 */
export interface Target {
  origin: string;
  path: string;
}

/** Bytes URL parsing leaves untouched in a query: what URLSearchParams writes. */
const PLAIN_QUERY = /^[A-Za-z0-9*\-._+%=&]*$/;
/** Distinct URLs before the query; a client calls a few, so this bound is never reached in use. */
const MAX_CACHED = 64;
const cache = new Map<string, Target | null>();

export function targetOf(url: string): Target | undefined {
  if (url.includes('#')) return undefined;
  const q = url.indexOf('?');
  const base = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  if (!PLAIN_QUERY.test(query)) return undefined;
  let parsed = cache.get(base);
  if (parsed === undefined) {
    parsed = parseBase(base);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(base, parsed);
  }
  if (parsed === null) return undefined;
  // URL.search is '' for an empty query, and undici then sends the path alone.
  return { origin: parsed.origin, path: query === '' ? parsed.path : `${parsed.path}?${query}` };
}

function parseBase(base: string): Target | null {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') return null;
  return { origin: url.origin, path: url.pathname };
}
