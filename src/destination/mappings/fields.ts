import type { SegmentEvent } from '../../segment/event.ts';
import { objectOf, textOf, type JsonObject } from '../read.ts';
import type { Source, VarsFilter } from './schema.ts';

/**
 * How a mapping's fields reach the action: each field is applied to a copy of the event, writing
 * the chosen value where the SPEC.md mapping reads it (the action modules stay as they are), and a
 * vars filter removes properties before any action reads them. Pure.
 */

const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The value at a dotted path, through objects and (by index) arrays; own properties only. */
export function valueAt(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(key)) return undefined;
      current = current[Number(key)];
      continue;
    }
    const o = objectOf(current);
    if (o === undefined || PROTOTYPE_KEYS.has(key) || !Object.prototype.hasOwnProperty.call(o, key)) return undefined;
    current = o[key];
  }
  return current;
}

/** A source's text: the first path with text (numbers as their text), or the fixed text; undefined when none. */
export function resolveSource(event: SegmentEvent, source: Source): string | undefined {
  if ('fixed' in source) return source.fixed.trim() === '' ? undefined : source.fixed;
  for (const path of source.from) {
    const text = textOf(valueAt(event, path));
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Copy of `obj` with `value` at `path` (objects created on the way); undefined removes the key. */
export function withValueAt(obj: JsonObject, path: readonly string[], value: unknown): JsonObject {
  const [key, ...rest] = path;
  if (key === undefined || PROTOTYPE_KEYS.has(key)) return obj;
  const copy: JsonObject = { ...obj };
  if (rest.length === 0) {
    if (value === undefined) delete copy[key];
    else copy[key] = value;
    return copy;
  }
  const child = objectOf(copy[key]);
  if (child === undefined && value === undefined) return obj;
  copy[key] = withValueAt(child ?? {}, rest, value);
  return copy;
}

/** The event with `value` written at (or, undefined, removed from) each dotted path. */
export function eventWith(event: SegmentEvent, writes: ReadonlyArray<[path: string, value: unknown]>): SegmentEvent {
  let out = event as unknown as JsonObject;
  for (const [path, value] of writes) out = withValueAt(out, path.split('.'), value);
  return out as unknown as SegmentEvent;
}

/** Where an action's vars come from, and which of those keys are its inputs rather than vars. */
export interface VarsRoots {
  /** Objects of the event whose keys become vars: `properties`, `traits`, `context.traits`. */
  roots: readonly string[];
  /** Keys of a root the action reads for itself (kept by an allow-list; a deny-list still removes them). */
  keep: readonly string[];
  /** `properties.products[]` items carry item vars too; `keep` for them is `itemKeep`. */
  items?: { path: string; keep: readonly string[] };
}

/** The event with the filter applied to every vars root (and product), or the same event when it filters nothing. */
export function filterVars(event: SegmentEvent, filter: VarsFilter, spec: VarsRoots): SegmentEvent {
  if ('deny' in filter && filter.deny.length === 0) return event;
  const writes: Array<[string, unknown]> = [];
  for (const root of spec.roots) {
    const object = objectOf(valueAt(event, root));
    if (object === undefined) continue;
    let filtered = 'deny' in filter ? denied(object, filter.deny) : allowed(object, filter.allow, spec.keep);
    if (spec.items !== undefined && root === 'properties') {
      const list = filtered[spec.items.path];
      if (Array.isArray(list)) {
        const items = spec.items;
        filtered = { ...filtered, [items.path]: list.map((item) => filterItem(item, filter, items.keep)) };
      }
    }
    writes.push([root, filtered]);
  }
  return eventWith(event, writes);
}

function filterItem(item: unknown, filter: VarsFilter, keep: readonly string[]): unknown {
  const object = objectOf(item);
  if (object === undefined) return item;
  return 'deny' in filter ? denied(object, filter.deny) : allowed(object, filter.allow, keep);
}

/**
 * Without the denied keys: a plain name at every depth (so `email` leaves `properties.email`,
 * `properties.customer.email` and every product's `email`), a dotted name at that path.
 */
export function denied(object: JsonObject, deny: readonly string[]): JsonObject {
  const names = new Set(deny.filter((d) => !d.includes('.')));
  const paths = deny.filter((d) => d.includes('.')).map((d) => d.split('.'));
  return denyIn(object, names, paths, 0) as JsonObject;
}

const MAX_DEPTH = 64;

function denyIn(value: unknown, names: ReadonlySet<string>, paths: ReadonlyArray<readonly string[]>, depth: number): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => denyIn(v, names, paths, depth + 1));
  const object = objectOf(value);
  if (object === undefined) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(object)) {
    if (names.has(key)) continue;
    if (paths.some((p) => p.length === 1 && p[0] === key)) continue;
    const deeper = paths.filter((p) => p.length > 1 && p[0] === key).map((p) => p.slice(1));
    Object.defineProperty(out, key, { value: denyIn(object[key], names, deeper, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Only the allowed keys (a dotted name keeps that path alone) and the action's own inputs. */
export function allowed(object: JsonObject, allow: readonly string[], keep: readonly string[]): JsonObject {
  const out: JsonObject = {};
  const kept = new Set([...keep, ...allow.filter((a) => !a.includes('.'))]);
  for (const key of Object.keys(object)) {
    if (kept.has(key)) Object.defineProperty(out, key, { value: object[key], enumerable: true, writable: true, configurable: true });
  }
  let result = out;
  for (const path of allow.filter((a) => a.includes('.'))) {
    const value = valueAt(object, path);
    if (value !== undefined && !kept.has(path.split('.')[0]!)) result = withValueAt(result, path.split('.'), value);
  }
  return result;
}
