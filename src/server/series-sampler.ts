import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { DestinationRegistry } from '../delivery/destinations.ts';
import type { DeliveryLog, DestinationDirectory, SeriesStore } from '../delivery/store.ts';
import { validateSettings } from '../destination/settings.ts';
import type { HttpMethod } from '../sailthru/types.ts';
import { addCounts, boundOf, emptyCounts, KEEP_MS, mergeRows, SERIES_RANGES, type BucketData, type Counts, type SeriesRange } from './series-buckets.ts';

/**
 * The charts' data. Every few seconds each process (serving or delivering) reads its own delivery
 * metrics (the prom-client counters and the latency histogram that the worker's `settled` events
 * feed) and the store's backlog, and adds what its counters rose by to its own rows of the
 * store's chart buckets, at three resolutions (10 s kept 2 h, 5 min kept 2 days, 1 h kept 8 days:
 * series-buckets.ts). A chart sums every process's rows, so it reads the same from every process
 * and survives restarts; the bucket in progress fills in as the processes write.
 */

export interface SeriesPoint {
  /** End of the interval (ISO-8601). */
  at: string;
  intervalMs: number;
  eventsIn: number;
  delivered: number;
  skipped: number;
  /** Dead-lettered in this interval. */
  failed: number;
  /** Attempts that failed transiently and were scheduled again. */
  retried: number;
  /** Attempts that paused their destination. */
  paused: number;
  /** Unsettled events (pending + retrying) at the end of the interval, every destination; null when no process wrote that interval. */
  backlog: number | null;
  deadLetters: number | null;
  oldestPendingAgeMs: number | null;
  /** From the latency histogram's buckets (interpolated, as Prometheus does); null without data. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Sailthru calls by "METHOD /endpoint". */
  calls: Record<string, number>;
  /** Calls answered with an error status (or no answer). */
  callErrors: number;
  /** Calls per second ÷ the per-second limit in force, by "METHOD /endpoint". */
  rateLimitUse: Record<string, number>;
}

export interface EndpointUse {
  endpoint: string;
  calls: number;
  peakPerSecond: number;
  /** The pacing limit now in force (after X-Rate-Limit-* corrections); null when unknown. */
  limitPerSecond: number | null;
  peakUse: number | null;
  lastUse: number | null;
}

export interface Series {
  /** 1h, 24h or 7d; null when asked by minutes. */
  range: SeriesRange | null;
  minutes: number;
  /** The buckets' length; each point has its own (the last one is in progress). */
  intervalMs: number;
  from: string;
  to: string;
  points: SeriesPoint[];
  endpoints: EndpointUse[];
  /** Every process's figures, from the store (see docs/console.md). */
  scope: 'store';
}

interface Snapshot {
  at: number;
  counts: Counts;
}

type CounterKey = 'eventsIn' | 'delivered' | 'skipped' | 'failed' | 'retried' | 'paused';

const COUNTERS: Record<CounterKey, string> = {
  eventsIn: 'events_received_total',
  delivered: 'events_delivered_total',
  skipped: 'events_skipped_total',
  failed: 'events_failed_total',
  retried: 'events_retried_total',
  paused: 'destination_pauses_total',
};

export interface SeriesSamplerOptions {
  metrics: Registry;
  store: Pick<DeliveryLog, 'backlogByDestination'> & Pick<DestinationDirectory, 'listDestinations'> & SeriesStore;
  registry: Pick<DestinationRegistry, 'gateFor'>;
  /** default 5 s */
  intervalMs?: number;
  prefix?: string;
  now?: () => number;
  /** Names this process's rows; default a random UUID (a restart is a new process). */
  processId?: string;
  onError?: (error: unknown) => void;
}

/** On-demand samples (a chart asking) come at most this often. */
const MIN_GAP_MS = 1000;
const PRUNE_EVERY_MS = 60_000;
const RESOLUTIONS = [...KEEP_MS.keys()];

export class SeriesSampler {
  private last: Snapshot | null = null;
  /** This process's bucket in progress, by resolution. */
  private readonly open = new Map<number, { bucketStart: number; data: BucketData }>();
  private readonly intervalMs: number;
  private readonly prefix: string;
  private readonly now: () => number;
  readonly processId: string;
  private lastPrune = 0;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: SeriesSamplerOptions) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.prefix = options.prefix ?? 'sailthru_destination_';
    this.now = options.now ?? Date.now;
    this.processId = options.processId ?? randomUUID();
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling after writing what was counted since the last sample. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sample();
  }

  /** Take a snapshot now and write it (serialised with the timer's). */
  sample(): Promise<void> {
    this.chain = this.chain.then(
      () => this.record(),
      () => this.record(),
    );
    return this.chain;
  }

  /** A range (1h, 24h, 7d), or the last `minutes` (1–60) at the finest resolution. */
  async series(which: SeriesRange | number = '1h'): Promise<Series> {
    if (!this.last || this.now() - this.last.at >= MIN_GAP_MS) await this.sample();
    const range = typeof which === 'string' ? SERIES_RANGES[which] : { spanMs: which * 60_000, resolutionMs: SERIES_RANGES['1h'].resolutionMs };
    const res = range.resolutionMs;
    const to = this.now();
    const from = to - range.spanMs;
    const firstBucket = Math.floor(from / res) * res;
    const merged = mergeRows(await this.options.store.readSeriesBuckets(res, firstBucket, to + 1));
    const limits = await this.limitsFor([...new Set([...merged.values()].flatMap((d) => Object.keys(d.calls)))]);
    const points: SeriesPoint[] = [];
    const starts = [...merged.keys()];
    if (starts.length > 0) {
      // From the first bucket with data: before it there was nothing to count (or no such process).
      for (let b = Math.min(...starts); b <= to; b += res) {
        const end = Math.min(b + res, to);
        points.push(pointOf(merged.get(b) ?? null, end, Math.max(1, end - b), limits));
      }
    }
    return {
      range: typeof which === 'string' ? which : null,
      minutes: Math.round(range.spanMs / 60_000),
      intervalMs: res,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      points,
      endpoints: endpointUse(points, limits),
      scope: 'store',
    };
  }

  private async record(): Promise<void> {
    try {
      const snapshot = await this.read();
      // Counters start at zero with the process: the first sample counts from there.
      const before = this.last?.counts ?? emptyCounts();
      this.last = snapshot;
      const delta = countsBetween(before, snapshot.counts);
      const gauges = await this.gauges();
      const rows = RESOLUTIONS.map((res) => {
        const bucketStart = Math.floor(snapshot.at / res) * res;
        let open = this.open.get(res);
        if (!open || open.bucketStart !== bucketStart) {
          open = { bucketStart, data: { ...emptyCounts(), ...gauges } };
          this.open.set(res, open);
        }
        addCounts(open.data, delta);
        Object.assign(open.data, gauges);
        return { resolutionMs: res, bucketStart, processId: this.processId, data: open.data, updatedAt: snapshot.at };
      });
      const prune = snapshot.at - this.lastPrune >= PRUNE_EVERY_MS;
      await this.options.store.saveSeriesBuckets(rows, prune ? [...KEEP_MS].map(([resolutionMs, keep]) => ({ resolutionMs, before: snapshot.at - keep })) : []);
      if (prune) this.lastPrune = snapshot.at;
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private async read(): Promise<Snapshot> {
    const counts = emptyCounts();
    for (const [key, name] of Object.entries(COUNTERS) as Array<[CounterKey, string]>) {
      counts[key] = sum(await this.values(name));
    }
    for (const v of await this.values('sailthru_calls_total')) {
      const key = `${String(v.labels.method ?? '')} ${String(v.labels.endpoint ?? '')}`;
      counts.calls[key] = (counts.calls[key] ?? 0) + v.value;
      const status = Number(v.labels.status);
      if (!(status >= 200 && status < 300)) counts.callErrors += v.value;
    }
    const buckets = new Map<number | null, number>();
    for (const v of await this.values('delivery_latency_seconds')) {
      if (v.metricName !== undefined && !v.metricName.endsWith('_bucket')) continue;
      if (v.labels.le === undefined) continue;
      const le = v.labels.le === '+Inf' ? null : Number(v.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
    counts.latency = [...buckets.entries()].sort((a, b) => boundOf(a[0]) - boundOf(b[0]));
    return { at: this.now(), counts };
  }

  private async gauges(): Promise<Pick<BucketData, 'backlog' | 'deadLetters' | 'oldestPendingAgeMs'>> {
    const backlogs = await this.options.store.backlogByDestination();
    const ages = backlogs.map((b) => b.oldestUnsettledAgeMs).filter((a): a is number => a !== null);
    return {
      backlog: backlogs.reduce((n, b) => n + b.unsettled, 0),
      deadLetters: backlogs.reduce((n, b) => n + b.failed, 0),
      oldestPendingAgeMs: ages.length === 0 ? null : Math.max(...ages),
    };
  }

  /** The per-second pacing limit of each endpoint: the tightest among the configured accounts. */
  private async limitsFor(endpoints: string[]): Promise<Map<string, number>> {
    const limits = new Map<string, number>();
    if (endpoints.length === 0) return limits;
    const destinations = await this.options.store.listDestinations();
    for (const d of destinations) {
      const checked = validateSettings(d.settings);
      if (!checked.ok) continue;
      const gate = this.options.registry.gateFor(checked.settings);
      for (const key of endpoints) {
        const [method, endpoint] = key.split(' ') as [HttpMethod, string];
        const points = gate.pointsPerSecond(method, endpoint ?? '/');
        const prev = limits.get(key);
        limits.set(key, prev === undefined ? points : Math.min(prev, points));
      }
    }
    return limits;
  }

  private async values(name: string): Promise<Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>> {
    const metric = this.options.metrics.getSingleMetric(this.prefix + name);
    if (!metric) return [];
    const got = await metric.get();
    return got.values as Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>;
  }
}

function sum(values: Array<{ value: number }>): number {
  return values.reduce((n, v) => n + v.value, 0);
}

/** What the counters rose by (a counter never falls; a lower value means it was reset). */
function countsBetween(a: Counts, b: Counts): Counts {
  const out = emptyCounts();
  const rise = (x: number, y: number) => Math.max(0, y - x);
  out.eventsIn = rise(a.eventsIn, b.eventsIn);
  out.delivered = rise(a.delivered, b.delivered);
  out.skipped = rise(a.skipped, b.skipped);
  out.failed = rise(a.failed, b.failed);
  out.retried = rise(a.retried, b.retried);
  out.paused = rise(a.paused, b.paused);
  out.callErrors = rise(a.callErrors, b.callErrors);
  for (const [k, n] of Object.entries(b.calls)) {
    const d = rise(a.calls[k] ?? 0, n);
    if (d > 0) out.calls[k] = d;
  }
  out.latency = b.latency.map(([le, n]): [number | null, number] => [le, rise(a.latency.find(([l]) => l === le)?.[1] ?? 0, n)]);
  return out;
}

function pointOf(d: BucketData | null, end: number, intervalMs: number, limits: Map<string, number>): SeriesPoint {
  const calls = d?.calls ?? {};
  const rateLimitUse: Record<string, number> = {};
  for (const [key, n] of Object.entries(calls)) {
    const limit = limits.get(key);
    if (limit !== undefined && limit > 0 && n > 0) rateLimitUse[key] = round(n / (intervalMs / 1000) / limit, 4);
  }
  const latency = (d?.latency ?? []).map(([le, n]): [number, number] => [boundOf(le), n]);
  return {
    at: new Date(end).toISOString(),
    intervalMs,
    eventsIn: d?.eventsIn ?? 0,
    delivered: d?.delivered ?? 0,
    skipped: d?.skipped ?? 0,
    failed: d?.failed ?? 0,
    retried: d?.retried ?? 0,
    paused: d?.paused ?? 0,
    backlog: d ? d.backlog : null,
    deadLetters: d ? d.deadLetters : null,
    oldestPendingAgeMs: d ? d.oldestPendingAgeMs : null,
    latencyP50Ms: quantileMs(latency, 0.5),
    latencyP95Ms: quantileMs(latency, 0.95),
    calls: { ...calls },
    callErrors: d?.callErrors ?? 0,
    rateLimitUse,
  };
}

/** histogram_quantile over cumulative buckets (seconds) → milliseconds. */
export function quantileMs(buckets: ReadonlyArray<readonly [number, number]>, q: number): number | null {
  const total = buckets.length === 0 ? 0 : buckets[buckets.length - 1]![1];
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return round(lowerBound * 1000, 1);
      const inBucket = count - lowerCount;
      const fraction = inBucket > 0 ? (rank - lowerCount) / inBucket : 1;
      return round((lowerBound + (le - lowerBound) * fraction) * 1000, 1);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return round(lowerBound * 1000, 1);
}

function endpointUse(points: SeriesPoint[], limits: Map<string, number>): EndpointUse[] {
  const keys = new Set(points.flatMap((p) => Object.keys(p.calls)));
  const latest = points[points.length - 1];
  return [...keys].sort().map((endpoint) => {
    let calls = 0;
    let peakPerSecond = 0;
    let peakUse: number | null = null;
    for (const p of points) {
      const n = p.calls[endpoint] ?? 0;
      calls += n;
      peakPerSecond = Math.max(peakPerSecond, n / (p.intervalMs / 1000));
      const use = p.rateLimitUse[endpoint];
      if (use !== undefined) peakUse = Math.max(peakUse ?? 0, use);
    }
    return {
      endpoint,
      calls,
      peakPerSecond: round(peakPerSecond, 2),
      limitPerSecond: limits.get(endpoint) ?? null,
      peakUse,
      lastUse: latest?.rateLimitUse[endpoint] ?? (latest ? 0 : null),
    };
  });
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
