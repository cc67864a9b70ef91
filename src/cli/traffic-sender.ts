import { HttpFailure, joinUrl, requestJson } from './http.ts';
import type { TrafficGenerator } from './traffic.ts';

/**
 * Posts generated traffic to a server's `/v1/batch` at a steady rate, as a fleet of clients
 * would: a batch every tick with the events due by then. One request at a time; when the server
 * pushes back (429) the sender waits and catches up later, never piling requests on it.
 */
export interface TrafficSenderOptions {
  url: string;
  writeKey: string;
  generator: TrafficGenerator;
  /** Events per second. */
  rate: number;
  /** Stop sending after this long (ms); default never. */
  durationMs?: number;
  /** default 250 ms */
  tickMs?: number;
  /** Largest batch (catching up after a pause). default 500 */
  maxBatch?: number;
  now?: () => number;
}

export interface TrafficStats {
  /** Events posted (answered by the server). */
  sent: number;
  accepted: number;
  /** Refused at ingest (listed in the answer's `rejected`). */
  rejected: number;
  /** Requests that failed after retries (the events are counted as not sent). */
  failedRequests: number;
  lastError: string | null;
  /** Waiting for the server (429 / 503) right now. */
  throttled: boolean;
  finished: boolean;
}

export class TrafficSender {
  readonly stats: TrafficStats = { sent: 0, accepted: 0, rejected: 0, failedRequests: 0, lastError: null, throttled: false, finished: false };
  private readonly now: () => number;
  private readonly authorization: string;
  private startedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private due = 0;

  constructor(private readonly options: TrafficSenderOptions) {
    this.now = options.now ?? Date.now;
    this.authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  }

  start(): void {
    this.startedAt = this.now();
    this.schedule();
  }

  /** Stops after the request in flight (if any) is answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    this.stats.finished = true;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.options.tickMs ?? 250);
  }

  private async tick(): Promise<void> {
    const elapsed = this.now() - this.startedAt;
    const until = this.options.durationMs === undefined ? elapsed : Math.min(elapsed, this.options.durationMs);
    const target = Math.floor((until / 1000) * this.options.rate);
    const n = Math.min(target - this.due, this.options.maxBatch ?? 500);
    if (this.options.durationMs !== undefined && elapsed >= this.options.durationMs && n <= 0) {
      this.stopped = true;
      this.stats.finished = true;
      return;
    }
    if (n <= 0) return;
    this.due += n;
    const batch = this.options.generator.take(n);
    try {
      const answer = await requestJson(
        'POST',
        joinUrl(this.options.url, '/v1/batch'),
        { headers: { authorization: this.authorization }, body: { batch } },
        {
          attempts: 3,
          onWait: (reason) => {
            this.stats.throttled = true;
            this.stats.lastError = reason;
          },
        },
      );
      this.stats.throttled = false;
      if (answer.status !== 200) {
        this.stats.failedRequests++;
        this.stats.lastError = `HTTP ${answer.status}`;
        return;
      }
      const rejected = (answer.body as { rejected?: unknown[] } | null)?.rejected?.length ?? 0;
      this.stats.sent += batch.length;
      this.stats.rejected += rejected;
      this.stats.accepted += batch.length - rejected;
    } catch (err) {
      this.stats.throttled = false;
      this.stats.failedRequests++;
      this.stats.lastError = err instanceof HttpFailure ? err.message : String(err);
    }
  }
}
