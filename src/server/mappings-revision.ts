import { createHash } from 'node:crypto';
import type { Mapping } from '../destination/mappings/schema.ts';

/**
 * A mapping list's revision, for optimistic concurrency (docs/mappings.md, "Two operators at
 * once"): a hash of the stored list, so it changes exactly when the list does (not when the
 * destination's settings do). `null`, the defaults, has its own.
 */
export function mappingsRevision(mappings: readonly Mapping[] | null): string {
  return createHash('sha256')
    .update(mappings === null ? 'defaults' : JSON.stringify(mappings))
    .digest('hex')
    .slice(0, 16);
}

/** The revision an If-Match header names (`"abc"`, `W/"abc"`); undefined for none or `*`. */
export function revisionOfIfMatch(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '' || value.trim() === '*') return undefined;
  return value.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}
