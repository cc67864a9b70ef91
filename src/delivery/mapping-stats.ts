import { randomUUID } from 'node:crypto';
import type { Outcome } from '../destination/outcome.ts';
import type { MappingStatsStore } from './store.ts';

/**
 * What each mapping costs (issue 21, "Cost shown"): per destination and mapping, the events it
 * matched and the Sailthru calls they made, in one-minute buckets in the store, so the console can
 * show the last hour and the last day from any process. Each process counts in memory and writes
 * its own rows every few seconds (the charts' scheme: src/server/series-buckets.ts).
 *
 * An event counts as matched once, on the attempt that settles it (not on a retry or a pause);
 * calls count on every attempt, since every call spends the rate limit.
 */

export const MAPPING_STATS_RESOLUTION_MS = 60_000;
const KEEP_MS = 25 * 3_600_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const PRUNE_EVERY_MS = 10 * 60_000;
/** The key events that matched no mapping are counted under. */
export const NO_MAPPING = '(no match)';

export interface MappingCounts {
  matched: number;
  calls: number;
}

/** destinationId → mapping id → counts. */
type BucketData = Record<string, Record<string, MappingCounts>>;

export interface MappingStatsFigures {
  /** Mapping id (or NO_MAPPING) → counts, summed over every process. */
  lastHour: Record<string, MappingCounts>;
  lastDay: Record<string, MappingCounts>;
  resolutionMs: number;
}

export interface MappingStatsOptions {
  store: MappingStatsStore;
  processId?: string;
  now?: () => number;
  flushMs?: number;
  onError?: (err: unknown) => void;
}

export class MappingStats {
  private readonly open = new Map<number, BucketData>();
  private readonly dirty = new Set<number>();
  private readonly processId: string;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private lastPrune = 0;

  constructor(private readonly options: MappingStatsOptions) {
    this.processId = options.processId ?? randomUUID();
    this.now = options.now ?? Date.now;
  }

  /** One delivery attempt's outcome under the mapping it took (null: none matched). */
  record(destinationId: string, mappingId: string | null, outcome: Pick<Outcome, 'state' | 'calls'>): void {
    const bucketStart = Math.floor(this.now() / MAPPING_STATS_RESOLUTION_MS) * MAPPING_STATS_RESOLUTION_MS;
    let data = this.open.get(bucketStart);
    if (data === undefined) {
      data = {};
      this.open.set(bucketStart, data);
    }
    const perDestination = (data[destinationId] ??= {});
    const counts = (perDestination[mappingId ?? NO_MAPPING] ??= { matched: 0, calls: 0 });
    if (outcome.state !== 'retry' && outcome.state !== 'paused') counts.matched++;
    counts.calls += outcome.calls.length;
    this.dirty.add(bucketStart);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushMs ?? 5000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Writes the buckets counted in since the last flush (serialised). */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  private async write(): Promise<void> {
    const now = this.now();
    const current = Math.floor(now / MAPPING_STATS_RESOLUTION_MS) * MAPPING_STATS_RESOLUTION_MS;
    const starts = [...this.dirty];
    this.dirty.clear();
    const rows = starts.map((bucketStart) => ({
      resolutionMs: MAPPING_STATS_RESOLUTION_MS,
      bucketStart,
      processId: this.processId,
      data: structuredClone(this.open.get(bucketStart) ?? {}),
      updatedAt: now,
    }));
    const prune = now - this.lastPrune >= PRUNE_EVERY_MS;
    try {
      if (rows.length > 0 || prune) {
        await this.options.store.saveMappingBuckets(rows, prune ? [{ resolutionMs: MAPPING_STATS_RESOLUTION_MS, before: now - KEEP_MS }] : []);
      }
      if (prune) this.lastPrune = now;
      // A closed bucket's row is written whole: it need not stay in memory.
      for (const start of this.open.keys()) if (start < current && !this.dirty.has(start)) this.open.delete(start);
    } catch (err) {
      for (const start of starts) this.dirty.add(start);
      this.options.onError?.(err);
    }
  }
}

/** A destination's figures from the store: every process's rows of the last day, summed. */
export async function mappingStatsOf(store: Pick<MappingStatsStore, 'readMappingBuckets'>, destinationId: string, now: number = Date.now()): Promise<MappingStatsFigures> {
  const res = MAPPING_STATS_RESOLUTION_MS;
  const from = Math.floor((now - DAY_MS) / res) * res;
  const rows = await store.readMappingBuckets(res, from, now + 1);
  const lastHour: Record<string, MappingCounts> = {};
  const lastDay: Record<string, MappingCounts> = {};
  for (const row of rows) {
    const perDestination = countsOf(row.data)[destinationId] ?? {};
    for (const [mappingId, counts] of Object.entries(perDestination)) {
      add(lastDay, mappingId, counts);
      // A bucket counts in the hour when it ends inside it.
      if (row.bucketStart + res > now - HOUR_MS) add(lastHour, mappingId, counts);
    }
  }
  return { lastHour, lastDay, resolutionMs: res };
}

function add(into: Record<string, MappingCounts>, key: string, counts: MappingCounts): void {
  const total = (into[key] ??= { matched: 0, calls: 0 });
  total.matched += counts.matched;
  total.calls += counts.calls;
}

/** A stored row's data, read defensively (rows outlive versions of this code). */
function countsOf(value: unknown): Record<string, Record<string, MappingCounts>> {
  const out: Record<string, Record<string, MappingCounts>> = {};
  if (value === null || typeof value !== 'object') return out;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  for (const [destinationId, mappings] of Object.entries(value as Record<string, unknown>)) {
    if (mappings === null || typeof mappings !== 'object') continue;
    const per: Record<string, MappingCounts> = {};
    for (const [id, c] of Object.entries(mappings as Record<string, unknown>)) {
      const counts = (c ?? {}) as Partial<MappingCounts>;
      per[id] = { matched: num(counts.matched), calls: num(counts.calls) };
    }
    out[destinationId] = per;
  }
  return out;
}
