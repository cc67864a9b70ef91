import type { JsonObject } from './event.ts';

/**
 * An event is serialised once at ingest. The 32 KB check serialises each top-level value of
 * the event as received; the texts of its object values (properties, traits, context…) are kept
 * here, keyed by the object, and the stored payload is assembled from them where the normalised
 * event still holds the same object (it copies them by reference; nothing changes them after the
 * check). A profile of durable ingest had the two JSON.stringify calls at 15% of the main thread.
 */
const texts = new WeakMap<object, string>();

export type SizeCheck = { over: false } | { over: true; bytes: number | null };

/** Whether `raw` is over `limit` UTF-8 bytes as JSON; its values' texts are kept for eventJson. */
export function checkEventSize(raw: JsonObject, limit: number): SizeCheck {
  const parts: string[] = [];
  let length = 2;
  try {
    for (const key of Object.keys(raw)) {
      const value = raw[key];
      const text = JSON.stringify(value);
      if (text === undefined) continue;
      if (typeof value === 'object' && value !== null) texts.set(value, text);
      const part = `${JSON.stringify(key)}:${text}`;
      parts.push(part);
      length += part.length + (parts.length > 1 ? 1 : 0);
    }
  } catch {
    // Too deep for the stack (or not JSON at all): it cannot be kept.
    return { over: true, bytes: null };
  }
  // A UTF-16 unit is at most 3 bytes of UTF-8: most events are decided without counting bytes.
  if (length * 3 <= limit) return { over: false };
  const bytes = Buffer.byteLength(`{${parts.join(',')}}`, 'utf8');
  return bytes > limit ? { over: true, bytes } : { over: false };
}

/** JSON.stringify(event), reusing the texts the size check made of the same objects. */
export function eventJson(event: object): string {
  let out = '{';
  let first = true;
  for (const [key, value] of Object.entries(event)) {
    const text = (typeof value === 'object' && value !== null ? texts.get(value) : undefined) ?? JSON.stringify(value);
    if (text === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}
