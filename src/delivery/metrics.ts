import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ownCallsOf } from '../destination/outcome.ts';
import type { AppendResult, IngestSink } from './ingest.ts';
import { promiseFrom } from './promise-from.ts';
import type { RateLimitWait } from './rate-limiter.ts';
import type { DeliveryLog } from './store.ts';
import type { DeliveryWorker, SettledEvent } from './worker.ts';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400];
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 15, 60];

export interface DeliveryMetricsOptions {
  registry?: Registry;
  /** For the backlog gauges, read at scrape time. */
  log?: Pick<DeliveryLog, 'backlogByDestination'>;
  prefix?: string;
}

/** What one stored batch adds to the ingest counters. */
export interface AppendedCounts {
  destination: string;
  /** Accepted and rejected events. */
  received: number;
  rejected: number;
}

/**
 * The delivery layer's Prometheus metrics. The server only serves `registry.metrics()`; what is
 * counted, and when, is decided here next to the code that does it.
 */
export class DeliveryMetrics {
  readonly registry: Registry;
  private readonly received: Counter<'destination'>;
  private readonly rejected: Counter<'destination'>;
  private readonly duplicates: Counter<'destination'>;
  private readonly delivered: Counter<'destination'>;
  private readonly skipped: Counter<'destination'>;
  private readonly failed: Counter<'destination'>;
  private readonly retried: Counter<'destination'>;
  private readonly paused: Counter<'destination'>;
  private readonly outageWakes: Counter<'destination'>;
  private readonly lanesWoken: Counter<'destination'>;
  private readonly crossLaneWaits: Counter<'destination'>;
  private readonly latency: Histogram<'destination' | 'state'>;
  private readonly attemptDuration: Histogram<'destination'>;
  private readonly calls: Counter<'method' | 'endpoint' | 'status'>;
  private readonly callDuration: Histogram<'method' | 'endpoint'>;
  private readonly rateLimitWaits: Histogram<'method' | 'endpoint'>;

  constructor(options: DeliveryMetricsOptions = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    const p = options.prefix ?? 'sailthru_destination_';
    const perDestination = (name: string, help: string): Counter<'destination'> =>
      new Counter({ name: `${p}${name}`, help, labelNames: ['destination'], registers: [registry] });

    this.received = perDestination('events_received_total', 'Events received at ingest (accepted and rejected).');
    this.rejected = perDestination('events_rejected_total', 'Events refused at ingest (recorded as rejected).');
    this.duplicates = perDestination('events_duplicate_total', 'Events whose messageId was already stored (not stored again).');
    this.delivered = perDestination('events_delivered_total', 'Events delivered to Sailthru.');
    this.skipped = perDestination('events_skipped_total', 'Events settled as skipped (nothing to send).');
    this.failed = perDestination('events_failed_total', 'Events dead-lettered (permanent error or retry window used up).');
    this.retried = perDestination('events_retried_total', 'Attempts that failed transiently and were scheduled again.');
    this.paused = perDestination('destination_pauses_total', 'Attempts that paused their destination (account-wide error).');
    this.outageWakes = perDestination('outage_wakes_total', 'Times Sailthru answered again after an outage and waiting lanes were made due.');
    this.lanesWoken = perDestination('lanes_woken_total', 'Lanes made due at once by those wakes instead of waiting out their backoff.');
    this.crossLaneWaits = perDestination(
      'cross_lane_waits_total',
      "Times a lane's head was held back for older unsettled events of the lane its anonymousId (or previousId) names.",
    );
    this.latency = new Histogram({
      name: `${p}delivery_latency_seconds`,
      help: 'From receipt at ingest to the final settlement of an event.',
      labelNames: ['destination', 'state'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.attemptDuration = new Histogram({
      name: `${p}attempt_duration_seconds`,
      help: 'Duration of one delivery attempt (all its Sailthru calls).',
      labelNames: ['destination'],
      buckets: CALL_BUCKETS,
      registers: [registry],
    });
    this.calls = new Counter({
      name: `${p}sailthru_calls_total`,
      help: 'Sailthru calls by method, endpoint and HTTP status (0: no response).',
      labelNames: ['method', 'endpoint', 'status'],
      registers: [registry],
    });
    this.callDuration = new Histogram({
      name: `${p}sailthru_call_duration_seconds`,
      help: 'Duration of Sailthru calls.',
      labelNames: ['method', 'endpoint'],
      buckets: CALL_BUCKETS,
      registers: [registry],
    });
    this.rateLimitWaits = new Histogram({
      name: `${p}rate_limit_wait_seconds`,
      help: 'Time requests waited for the Sailthru rate limit (only requests that waited).',
      labelNames: ['method', 'endpoint'],
      buckets: WAIT_BUCKETS,
      registers: [registry],
    });

    const log = options.log;
    if (log) {
      const backlogs = () => log.backlogByDestination();
      new Gauge({
        name: `${p}backlog_events`,
        help: 'Events not yet settled (pending and retrying).',
        labelNames: ['destination'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const b of await backlogs()) this.set({ destination: b.destinationId }, b.unsettled);
        },
      });
      new Gauge({
        name: `${p}dead_letters`,
        help: 'Dead-lettered events waiting for an operator (retry or drop).',
        labelNames: ['destination'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const b of await backlogs()) this.set({ destination: b.destinationId }, b.failed);
        },
      });
      new Gauge({
        name: `${p}oldest_pending_age_seconds`,
        help: 'Age of the oldest unsettled event (0 when none).',
        labelNames: ['destination'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const b of await backlogs()) this.set({ destination: b.destinationId }, (b.oldestUnsettledAgeMs ?? 0) / 1000);
        },
      });
    }
  }

  recordAppend(appended: AppendedCounts, result: AppendResult): void {
    const { destination } = appended;
    this.received.inc({ destination }, appended.received);
    if (appended.rejected > 0) this.rejected.inc({ destination }, appended.rejected);
    if (result.duplicates > 0) this.duplicates.inc({ destination }, result.duplicates);
  }

  recordSettled(settled: SettledEvent): void {
    const destination = settled.destinationId;
    switch (settled.settlement.state) {
      case 'delivered':
        this.delivered.inc({ destination });
        break;
      case 'skipped':
        this.skipped.inc({ destination });
        break;
      case 'failed':
        this.failed.inc({ destination });
        break;
      case 'retrying':
        this.retried.inc({ destination });
        break;
      case 'paused':
        this.paused.inc({ destination });
        break;
    }
    if (settled.latencyMs !== null) {
      this.latency.observe({ destination, state: settled.settlement.state }, settled.latencyMs / 1000);
    }
    this.attemptDuration.observe({ destination }, settled.durationMs / 1000);
    // A coalesced group's one set of calls is in each of its events' outcomes: counted once.
    for (const call of ownCallsOf(settled.outcome)) {
      this.calls.inc({ method: call.method, endpoint: call.endpoint, status: String(call.status) });
      this.callDuration.observe({ method: call.method, endpoint: call.endpoint }, call.durationMs / 1000);
    }
  }

  recordRateLimitWait(wait: RateLimitWait): void {
    this.rateLimitWaits.observe({ method: wait.method, endpoint: wait.endpoint }, wait.waitedMs / 1000);
  }

  /** Count every settlement of a worker. */
  attachWorker(worker: DeliveryWorker): void {
    worker.on('settled', (settled) => this.recordSettled(settled));
    worker.on('recovered', ({ destinationId, lanes }) => {
      this.outageWakes.inc({ destination: destinationId });
      this.lanesWoken.inc({ destination: destinationId }, lanes);
    });
    worker.on('waiting', (wait) => this.crossLaneWaits.inc({ destination: wait.lane.destinationId }));
  }

  /**
   * An IngestSink that counts what passes through it. It keeps only the counts while the append
   * is awaited, not the batch (see SqliteEventStore.append: the events should die young).
   */
  instrumentSink<T extends IngestSink>(sink: T): IngestSink {
    return {
      append: (batch) => {
        const appended: AppendedCounts = {
          destination: batch.destinationId,
          received: batch.accepted.length + batch.rejected.length,
          rejected: batch.rejected.length,
        };
        return promiseFrom(() => sink.append(batch)).then((result) => {
          this.recordAppend(appended, result);
          return result;
        });
      },
      backlog: () => sink.backlog(),
    };
  }
}
