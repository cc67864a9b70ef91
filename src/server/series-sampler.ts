import type { Registry } from 'prom-client';
import type { DestinationRegistry } from '../delivery/destinations.ts';
import type { DeliveryLog, DestinationDirectory } from '../delivery/store.ts';
import { validateSettings } from '../destination/settings.ts';
import type { HttpMethod } from '../sailthru/types.ts';

/**
 * The charts' data: every few seconds, a snapshot of this process's delivery metrics (the
 * prom-client counters and the latency histogram that the worker's `settled` events feed) and of
 * the store's backlog, kept for an hour in a ring. A point is the difference between two
 * snapshots, so a rate is "what this process saw in that interval".
 *
 * Distributed mode: counters are per process, so the rates (events in, delivered, calls) are
 * those of the process answering; the backlog and oldest pending age come from the shared store
 * and are global. An ingest-only node shows events in and no deliveries; a worker the reverse.
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
  /** Unsettled events (pending + retrying) at the end of the interval, every destination. */
  backlog: number;
  deadLetters: number;
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
  minutes: number;
  /** Nominal sampling interval; each point has its own. */
  intervalMs: number;
  from: string;
  to: string;
  points: SeriesPoint[];
  endpoints: EndpointUse[];
  /** Rates are this process's; backlog figures are the store's (see docs). */
  scope: 'process';
}

interface Snapshot {
  at: number;
  counters: Record<CounterKey, number>;
  calls: Map<string, number>;
  callErrors: number;
  /** Cumulative counts by bucket upper bound, summed over labels, sorted by bound. */
  latency: Array<[number, number]>;
  backlog: number;
  deadLetters: number;
  oldestPendingAgeMs: number | null;
  /** Per-second limit by endpoint key: the tightest among the accounts in use. */
  limits: Map<string, number>;
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
  store: Pick<DeliveryLog, 'backlogByDestination'> & Pick<DestinationDirectory, 'listDestinations'>;
  registry: Pick<DestinationRegistry, 'gateFor'>;
  /** default 5 s */
  intervalMs?: number;
  /** default one hour */
  keepMs?: number;
  prefix?: string;
  now?: () => number;
  onError?: (error: unknown) => void;
}

/** On-demand samples (a chart asking) come at most this often, so polling cannot flood the ring. */
const MIN_GAP_MS = 1000;

export class SeriesSampler {
  private readonly snapshots: Snapshot[] = [];
  private readonly intervalMs: number;
  private readonly keepMs: number;
  private readonly prefix: string;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: SeriesSamplerOptions) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.keepMs = options.keepMs ?? 3_600_000;
    this.prefix = options.prefix ?? 'sailthru_destination_';
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
  }

  /** Take a snapshot now (serialised with the timer's). */
  sample(): Promise<void> {
    this.chain = this.chain.then(
      () => this.takeSnapshot(),
      () => this.takeSnapshot(),
    );
    return this.chain;
  }

  /** The last `minutes` of points, with a fresh snapshot when the last is more than a second old. */
  async series(minutes = 60): Promise<Series> {
    const last = this.snapshots[this.snapshots.length - 1];
    if (!last || this.now() - last.at >= MIN_GAP_MS) await this.sample();
    const to = this.now();
    const from = to - minutes * 60_000;
    const points: SeriesPoint[] = [];
    for (let i = 1; i < this.snapshots.length; i++) {
      const b = this.snapshots[i]!;
      if (b.at <= from) continue;
      points.push(pointBetween(this.snapshots[i - 1]!, b));
    }
    return {
      minutes,
      intervalMs: this.intervalMs,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      points,
      endpoints: endpointUse(points, this.snapshots[this.snapshots.length - 1]),
      scope: 'process',
    };
  }

  private async takeSnapshot(): Promise<void> {
    try {
      const snapshot = await this.read();
      this.snapshots.push(snapshot);
      const keepFrom = snapshot.at - this.keepMs;
      // One snapshot before the window stays: it is the start of the first interval.
      while (this.snapshots.length > 2 && this.snapshots[1]!.at <= keepFrom) this.snapshots.shift();
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private async read(): Promise<Snapshot> {
    const counters = {} as Record<CounterKey, number>;
    for (const [key, name] of Object.entries(COUNTERS) as Array<[CounterKey, string]>) {
      counters[key] = sum(await this.values(name));
    }
    const calls = new Map<string, number>();
    let callErrors = 0;
    for (const v of await this.values('sailthru_calls_total')) {
      const key = `${String(v.labels.method ?? '')} ${String(v.labels.endpoint ?? '')}`;
      calls.set(key, (calls.get(key) ?? 0) + v.value);
      const status = Number(v.labels.status);
      if (!(status >= 200 && status < 300)) callErrors += v.value;
    }
    const buckets = new Map<number, number>();
    for (const v of await this.values('delivery_latency_seconds')) {
      if (v.metricName !== undefined && !v.metricName.endsWith('_bucket')) continue;
      if (v.labels.le === undefined) continue;
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
    const backlogs = await this.options.store.backlogByDestination();
    const ages = backlogs.map((b) => b.oldestUnsettledAgeMs).filter((a): a is number => a !== null);
    return {
      at: this.now(),
      counters,
      calls,
      callErrors,
      latency: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
      backlog: backlogs.reduce((n, b) => n + b.unsettled, 0),
      deadLetters: backlogs.reduce((n, b) => n + b.failed, 0),
      oldestPendingAgeMs: ages.length === 0 ? null : Math.max(...ages),
      limits: await this.limitsFor([...calls.keys()]),
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

function pointBetween(a: Snapshot, b: Snapshot): SeriesPoint {
  const intervalMs = Math.max(1, b.at - a.at);
  const delta = (key: CounterKey) => Math.max(0, b.counters[key] - a.counters[key]);
  const calls: Record<string, number> = {};
  const rateLimitUse: Record<string, number> = {};
  for (const [key, total] of b.calls) {
    const n = Math.max(0, total - (a.calls.get(key) ?? 0));
    if (n === 0) continue;
    calls[key] = n;
    const limit = b.limits.get(key);
    if (limit !== undefined && limit > 0) rateLimitUse[key] = round(n / (intervalMs / 1000) / limit, 4);
  }
  const latency = b.latency.map(([le, count]): [number, number] => [le, Math.max(0, count - (a.latency.find(([l]) => l === le)?.[1] ?? 0))]);
  return {
    at: new Date(b.at).toISOString(),
    intervalMs,
    eventsIn: delta('eventsIn'),
    delivered: delta('delivered'),
    skipped: delta('skipped'),
    failed: delta('failed'),
    retried: delta('retried'),
    paused: delta('paused'),
    backlog: b.backlog,
    deadLetters: b.deadLetters,
    oldestPendingAgeMs: b.oldestPendingAgeMs,
    latencyP50Ms: quantileMs(latency, 0.5),
    latencyP95Ms: quantileMs(latency, 0.95),
    calls,
    callErrors: Math.max(0, b.callErrors - a.callErrors),
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

function endpointUse(points: SeriesPoint[], last: Snapshot | undefined): EndpointUse[] {
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
      limitPerSecond: last?.limits.get(endpoint) ?? null,
      peakUse,
      lastUse: latest?.rateLimitUse[endpoint] ?? (latest ? 0 : null),
    };
  });
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
