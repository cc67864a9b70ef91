/**
 * True when `value` nests deeper than `limit` objects/arrays. Recursive but bounded: it returns as
 * soon as it passes the limit, so the stack never holds more than `limit` frames however deep the
 * value goes. (It runs on every event at ingest: no allocation per node, unlike a work list.)
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (const child of value) if (nestsDeeperThan(child, limit - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) if (nestsDeeperThan(record[key], limit - 1)) return true;
  return false;
}
