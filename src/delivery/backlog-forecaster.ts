import { Gauge, type Registry } from 'prom-client';
import { callsOfKindMapped, describeDuration, forecastBacklog, scaleKinds, type EndpointLoad } from './backlog-forecast.ts';
import type { HttpMethod } from '../sailthru/types.ts';
import type { DeliveryLog, Destination, DestinationDirectory, QueuedKinds } from './store.ts';

/** What the console, /api and /metrics show of one destination's forecast. */
export interface BacklogForecastView {
  /** Unsettled events (pending and retrying). */
  events: number;
  /** Least time the queue can clear in at the limits now in force, s; null when nothing is queued, or never (a limit of 0: see `text`). */
  clearSeconds: number | null;
  /** e.g. "about 3 h 10 min at current limits". */
  text: string;
  /** The endpoint whose limit sets that time. */
  bottleneck: string | null;
  /** Best delivery rate of the queued mix, events/s. */
  boundEventsPerSecond: number | null;
  /** Per endpoint; `seconds` null when its limit allows no calls. */
  endpoints: Array<Omit<EndpointLoad, 'seconds'> & { seconds: number | null }>;
  /** The mix was read from a sample of the queue (its oldest and newest events), not all of it. */
  estimated: boolean;
  /** Set when the queue takes longer than the warning horizon to clear. */
  warning: string | null;
}

export interface BacklogForecasterOptions {
  store: Pick<DeliveryLog, 'queuedKinds' | 'backlogByDestination'> & Pick<DestinationDirectory, 'listDestinations'>;
  /** The destination registry: each account's rate gate, with the limits now in force. */
  registry: { gateFor(settings: Destination['settings']): { pointsPerSecond(method: HttpMethod, endpoint: string): number } };
  /** A forecast longer than this warns (BACKLOG_WARN_HORIZON_HOURS), s. */
  warnHorizonSeconds: number;
  /** How long a forecast is reused, ms (default 10 s): a scrape and a page view cost one read. */
  maxAgeMs?: number;
  /** Event rows read at most per forecast (default 20,000): the cost stays flat with millions queued. */
  sample?: number;
  now?: () => number;
}

/**
 * Forecasts per destination when its backlog clears: the queued mix (store.queuedKinds) at the
 * rate limits the destination's account gate applies now (after Sailthru's header corrections).
 */
export class BacklogForecaster {
  private readonly cache = new Map<string, { at: number; queued: Promise<QueuedKinds> }>();
  private readonly maxAgeMs: number;
  private readonly sample: number;
  private readonly now: () => number;

  constructor(private readonly options: BacklogForecasterOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 10_000;
    this.sample = options.sample ?? 20_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The forecast of one destination. `unsettled` (the backlog figure its caller already has) keeps
   * it current between reads of the mix: the mix is read again only when older than maxAgeMs or
   * when it was read from an empty queue.
   */
  async forecast(destination: Pick<Destination, 'id' | 'settings'> & Partial<Pick<Destination, 'mappings'>>, unsettled?: number): Promise<BacklogForecastView> {
    const queued = await this.queuedOf(destination.id, unsettled);
    return this.view(destination, unsettled === undefined ? queued : { ...queued, total: unsettled });
  }

  private async queuedOf(destinationId: string, unsettled: number | undefined): Promise<QueuedKinds> {
    const now = this.now();
    const cached = this.cache.get(destinationId);
    if (cached && now - cached.at < this.maxAgeMs) {
      const queued = await cached.queued.catch(() => null);
      if (queued && (queued.total > 0 || unsettled === 0 || unsettled === undefined)) return queued;
    }
    const queued = this.options.store.queuedKinds(destinationId, this.sample);
    this.cache.set(destinationId, { at: now, queued });
    // A failed read is not kept: the next asker reads again.
    queued.catch(() => {
      if (this.cache.get(destinationId)?.queued === queued) this.cache.delete(destinationId);
    });
    return queued;
  }

  /** The gauges of /metrics: the forecast in seconds and whether it is over the horizon. */
  registerGauges(registry: Registry, prefix = 'sailthru_destination_'): void {
    // A second admin plugin on the same metrics (an embedding app, tests) reads the same store.
    if (registry.getSingleMetric(`${prefix}backlog_clear_seconds`)) return;
    const all = async (): Promise<Array<[string, BacklogForecastView]>> => {
      const [destinations, backlogs] = await Promise.all([this.options.store.listDestinations(), this.options.store.backlogByDestination()]);
      const unsettled = new Map(backlogs.map((b) => [b.destinationId, b.unsettled]));
      return Promise.all(destinations.map(async (d): Promise<[string, BacklogForecastView]> => [d.id, await this.forecast(d, unsettled.get(d.id) ?? 0)]));
    };
    new Gauge({
      name: `${prefix}backlog_clear_seconds`,
      help: 'Least time the queued events need to be delivered at the rate limits now in force, from the queued mix (0 when none; absent when a limit of 0 means never).',
      labelNames: ['destination'],
      registers: [registry],
      async collect() {
        this.reset();
        // A backlog that never clears (a limit of 0) has no figure here, never +Inf: over_horizon says 1.
        for (const [id, f] of await all()) if (f.clearSeconds !== null || f.events === 0) this.set({ destination: id }, f.clearSeconds ?? 0);
      },
    });
    const horizon = this.options.warnHorizonSeconds;
    new Gauge({
      name: `${prefix}backlog_clear_over_horizon`,
      help: `1 when the backlog needs longer than the warning horizon (BACKLOG_WARN_HORIZON_HOURS, now ${horizon} s) to clear.`,
      labelNames: ['destination'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [id, f] of await all()) this.set({ destination: id }, f.warning === null ? 0 : 1);
      },
    });
  }

  private view(destination: Pick<Destination, 'id' | 'settings'> & Partial<Pick<Destination, 'mappings'>>, queued: QueuedKinds): BacklogForecastView {
    if (queued.total === 0) {
      return { events: 0, clearSeconds: null, text: 'nothing queued', bottleneck: null, boundEventsPerSecond: null, endpoints: [], estimated: false, warning: null };
    }
    const gate = this.options.registry.gateFor(destination.settings);
    // The destination's own mappings decide each kind's calls (a dropped kind needs none).
    const mappings = destination.mappings ?? null;
    const f = forecastBacklog(scaleKinds(queued.kinds, queued.total), (e) => gate.pointsPerSecond(e.method, e.path), (type, name) => callsOfKindMapped(mappings, type, name));
    const horizon = this.options.warnHorizonSeconds;
    const endpoints = f.endpoints.map((e) => ({
      ...e,
      calls: Math.round(e.calls),
      // A limit of 0 (or one not a number) allows nothing: no Infinity or NaN leaves here (JSON, /metrics, the console).
      limitPerSecond: Number.isFinite(e.limitPerSecond) && e.limitPerSecond > 0 ? e.limitPerSecond : 0,
      seconds: Number.isFinite(e.seconds) ? Math.round(e.seconds) : null,
    }));
    if (!Number.isFinite(f.seconds)) {
      const blocked = `${f.bottleneck ?? 'an endpoint'} allows no calls`;
      return {
        events: queued.total,
        clearSeconds: null,
        text: `never at current limits (${blocked})`,
        bottleneck: f.bottleneck,
        boundEventsPerSecond: 0,
        endpoints,
        estimated: queued.sampled,
        warning: `The backlog never clears at current limits: ${blocked} (its limit is 0)`,
      };
    }
    const duration = describeDuration(f.seconds);
    const text = `${duration} at current limits`;
    return {
      events: queued.total,
      clearSeconds: Math.round(f.seconds),
      text,
      bottleneck: f.bottleneck,
      boundEventsPerSecond: Number.isFinite(f.boundEventsPerSecond) ? Math.round(f.boundEventsPerSecond * 10) / 10 : null,
      endpoints,
      estimated: queued.sampled,
      warning:
        f.seconds > horizon
          ? `The backlog needs ${duration} to clear at current limits (${f.bottleneck ?? 'no endpoint'} sets the pace), longer than the ${describeHorizon(horizon)} warning horizon`
          : null,
    };
  }
}

function describeHorizon(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}
