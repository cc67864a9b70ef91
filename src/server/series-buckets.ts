import type { SeriesBucket } from '../delivery/store.ts';

/**
 * What one chart bucket holds, and how buckets add up. Each process adds what it counted in the
 * bucket's time (its counters' increase) to its own row; a chart sums the rows of every process,
 * so it reads the same from every process and survives restarts. Gauges read from the shared
 * store (backlog, dead letters, oldest pending) come from the row written last.
 */

export const SERIES_RANGES = {
  '1h': { spanMs: 3_600_000, resolutionMs: 10_000, label: '1 h' },
  '24h': { spanMs: 86_400_000, resolutionMs: 300_000, label: '24 h' },
  '7d': { spanMs: 7 * 86_400_000, resolutionMs: 3_600_000, label: '7 d' },
} as const;

export type SeriesRange = keyof typeof SERIES_RANGES;

export function isSeriesRange(value: unknown): value is SeriesRange {
  return typeof value === 'string' && Object.hasOwn(SERIES_RANGES, value);
}

/** How long each resolution's rows are kept: a little more than the range they draw. */
export const KEEP_MS: ReadonlyMap<number, number> = new Map(Object.values(SERIES_RANGES).map((r) => [r.resolutionMs, r.spanMs + Math.max(r.spanMs / 6, 2 * r.resolutionMs)]));

export interface Counts {
  eventsIn: number;
  delivered: number;
  skipped: number;
  failed: number;
  retried: number;
  paused: number;
  callErrors: number;
  /** Sailthru calls by "METHOD /endpoint". */
  calls: Record<string, number>;
  /** Latency histogram increase: [bucket upper bound in seconds (null: +Inf), count ≤ it]. */
  latency: Array<[number | null, number]>;
}

export interface Gauges {
  backlog: number;
  deadLetters: number;
  oldestPendingAgeMs: number | null;
}

export interface BucketData extends Counts, Gauges {}

export const COUNT_KEYS = ['eventsIn', 'delivered', 'skipped', 'failed', 'retried', 'paused', 'callErrors'] as const;

export function emptyCounts(): Counts {
  return { eventsIn: 0, delivered: 0, skipped: 0, failed: 0, retried: 0, paused: 0, callErrors: 0, calls: {}, latency: [] };
}

/** a + b, into a. */
export function addCounts(a: Counts, b: Counts): Counts {
  for (const k of COUNT_KEYS) a[k] += b[k];
  for (const [endpoint, n] of Object.entries(b.calls)) a.calls[endpoint] = (a.calls[endpoint] ?? 0) + n;
  const byBound = new Map(a.latency.map(([le, n]) => [le, n]));
  for (const [le, n] of b.latency) byBound.set(le, (byBound.get(le) ?? 0) + n);
  a.latency = [...byBound.entries()].sort((x, y) => boundOf(x[0]) - boundOf(y[0]));
  return a;
}

export function boundOf(le: number | null): number {
  return le === null ? Infinity : le;
}

/** A stored row's data, read defensively (rows outlive versions of this code). */
export function bucketData(value: unknown): BucketData {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Partial<BucketData>;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  const out: BucketData = { ...emptyCounts(), backlog: num(v.backlog), deadLetters: num(v.deadLetters), oldestPendingAgeMs: typeof v.oldestPendingAgeMs === 'number' ? v.oldestPendingAgeMs : null };
  for (const k of COUNT_KEYS) out[k] = num(v[k]);
  if (v.calls && typeof v.calls === 'object') for (const [k, n] of Object.entries(v.calls)) out.calls[k] = num(n);
  if (Array.isArray(v.latency)) {
    out.latency = v.latency.filter((p): p is [number | null, number] => Array.isArray(p) && (p[0] === null || typeof p[0] === 'number') && typeof p[1] === 'number');
  }
  return out;
}

/** Every process's rows of one bucket, as one. */
export function mergeRows(rows: SeriesBucket[]): Map<number, BucketData> {
  const out = new Map<number, { data: BucketData; gaugesAt: number }>();
  for (const row of rows) {
    const data = bucketData(row.data);
    const merged = out.get(row.bucketStart);
    if (!merged) {
      out.set(row.bucketStart, { data, gaugesAt: row.updatedAt });
      continue;
    }
    addCounts(merged.data, data);
    if (row.updatedAt >= merged.gaugesAt) {
      merged.data.backlog = data.backlog;
      merged.data.deadLetters = data.deadLetters;
      merged.data.oldestPendingAgeMs = data.oldestPendingAgeMs;
      merged.gaugesAt = row.updatedAt;
    }
  }
  return new Map([...out.entries()].map(([k, v]) => [k, v.data]));
}
