import type { JsonObject } from './event.ts';

/**
 * An event is serialised once at ingest. The 32 KB check serialises each top-level value of
 * the event as received and keeps the texts of its object values (properties, traits,
 * context…); normalizeEvent hands them to the normalised event (keepValueTexts), and the stored
 * payload is assembled from them where the normalised event still holds the same object (it
 * copies them by reference; nothing changes them after the check). A profile of durable ingest
 * had the two JSON.stringify calls at 15% of the main thread.
 *
 * The texts travel on the event itself, under a symbol that is not enumerable: JSON, spreads,
 * Object.keys, structured clones and test equality never see it, and a copy of the event simply
 * has none (eventJson then serialises what it finds). They were kept in a WeakMap keyed by the
 * objects before; its three to four sets per event cost as much as the JSON.stringify of the
 * event itself (issue 19, bench/README.md).
 */
const VALUE_TEXTS = Symbol('valueTexts');

/** Object values of an event and their JSON texts, as pairs: [value, text, value, text, …]. */
export type ValueTexts = readonly unknown[];

export type SizeCheck = { over: false; texts: ValueTexts } | { over: true; bytes: number | null };

/**
 * Whether `raw` is over `limit` UTF-8 bytes as JSON; the texts of its object values come back
 * for keepValueTexts.
 *
 * Most events are decided from a bound, without building the event's text: each value's text
 * (which the stored payload needs anyway) plus at most 6 UTF-16 units per key character (a
 * `\uXXXX` escape) and the quotes, colon and comma around it, times 3 bytes per UTF-16 unit.
 * Only an event that could be over the limit is serialised whole and its bytes counted.
 */
export function checkEventSize(raw: JsonObject, limit: number): SizeCheck {
  const texts: unknown[] = [];
  let bound = 2;
  try {
    for (const key of Object.keys(raw)) {
      const value = raw[key];
      const text = JSON.stringify(value);
      if (text === undefined) continue;
      if (typeof value === 'object' && value !== null) texts.push(value, text);
      bound += key.length * 6 + 4 + text.length;
    }
    if (bound * 3 > limit) {
      const bytes = Buffer.byteLength(JSON.stringify(raw), 'utf8');
      if (bytes > limit) return { over: true, bytes };
    }
    return { over: false, texts };
  } catch {
    // Too deep for the stack (or not JSON at all): it cannot be kept.
    return { over: true, bytes: null };
  }
}

/** Gives `event` the texts its size check made, for eventJson. */
export function keepValueTexts(event: object, texts: ValueTexts): void {
  if (texts.length > 0) Object.defineProperty(event, VALUE_TEXTS, { value: texts });
}

/** Key texts of the fields a normalised event usually has, so they are not serialised per event. */
const KEY_TEXTS = new Map<string, string>(
  [
    'type', 'messageId', 'userId', 'anonymousId', 'previousId', 'groupId', 'event', 'name', 'category', 'properties',
    'traits', 'context', 'integrations', 'timestamp', 'originalTimestamp', 'sentAt', 'receivedAt', 'authenticatedBy',
    'channel', 'version', 'ingestWarnings',
  ].map((key) => [key, JSON.stringify(key)]),
);

/** JSON.stringify(event), reusing the texts its size check made of the same objects. */
export function eventJson(event: object): string {
  const record = event as Record<string | symbol, unknown>;
  const texts = record[VALUE_TEXTS] as ValueTexts | undefined;
  let out = '{';
  for (const key of Object.keys(record)) {
    const value = record[key];
    const text = (texts !== undefined && typeof value === 'object' && value !== null ? textOf(texts, value) : undefined) ?? JSON.stringify(value);
    if (text === undefined) continue;
    if (out.length > 1) out += ',';
    out += KEY_TEXTS.get(key) ?? JSON.stringify(key);
    out += ':';
    out += text;
  }
  return `${out}}`;
}

function textOf(texts: ValueTexts, value: object): string | undefined {
  for (let i = 0; i < texts.length; i += 2) if (texts[i] === value) return texts[i + 1] as string;
  return undefined;
}
