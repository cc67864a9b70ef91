/**
 * Safe readers for event fields. Events arrive as JSON from clients we do not control: any field
 * may be missing, null, or of the wrong type, so the mapping never trusts a declared type.
 */
import type { JsonObject } from '../json.ts';

export type { JsonObject };

/** A plain JSON object (not null, not an array), else undefined. */
export function objectOf(value: unknown): JsonObject | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as JsonObject;
}

/** Own property only: `field(obj, 'constructor')` must not find Object.prototype's. */
export function field(obj: JsonObject | undefined, key: string): unknown {
  if (obj === undefined || !Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  return obj[key];
}

/** A non-empty string after trimming; numbers are accepted as their decimal text (ids often are). */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A non-empty string only (names, URLs, templates: a number there is a mistake we do not guess at). */
export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** A finite number, or a string that is one (`"19.99"`), else undefined. */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Reads `a.b.c` through objects only. */
export function pathOf(obj: unknown, ...keys: string[]): unknown {
  let current: unknown = obj;
  for (const key of keys) {
    const o = objectOf(current);
    if (o === undefined) return undefined;
    current = field(o, key);
  }
  return current;
}

/** Copies an object without the listed top-level keys (input untouched; own keys only). */
export function omitKeys(obj: JsonObject | undefined, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  if (obj === undefined) return out;
  const drop = new Set(keys);
  for (const key of Object.keys(obj)) {
    if (drop.has(key)) continue;
    // defineProperty, not assignment: a `__proto__` key must stay a plain key (flatten drops it later).
    Object.defineProperty(out, key, { value: obj[key], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A short, safe rendering of an input value for messages (never throws, never long). */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
