import type { Outcome } from '../destination/outcome.ts';

/**
 * Notices Sailthru answering again after an outage, so that the lanes which backed off during it
 * retry now instead of each waiting out its own backoff (up to the 5-minute cap: without this the
 * last lanes of a long outage resumed minutes after Sailthru was back).
 *
 * An outage, as one worker sees it: `minFailures` attempts in a row for one destination, from at
 * least two lanes, each ending in a retry with no wait of its own (connection refused, timeout,
 * HTTP 5xx; not a 429 that says when its window resets), with no answered call in between. A
 * single lane failing on its own among successes (one event Sailthru keeps answering 500) never
 * makes such a streak: the next success of another lane ends it, and that lane keeps its backoff.
 *
 * The first answered call after an outage asks for a wake. Wakes of one destination (by this
 * worker) are at least `minIntervalMs` apart, and the interval doubles with each wake that comes
 * within twice the interval of the last one, up to `maxIntervalMs`: a Sailthru that keeps failing
 * part of the time (one endpoint down, or half the calls) sees the waiting lanes less and less
 * often, as their own backoff would have it, instead of every few seconds. A quiet stretch
 * (twice the interval without a wake) brings the interval back to `minIntervalMs`. The rate gate
 * still paces every call.
 */
export interface OutageRecoveryOptions {
  /** Failed attempts in a row that make an outage. Default 3. */
  minFailures?: number;
  /** Least time between two wakes of one destination. Default 10 s. */
  minIntervalMs?: number;
  /** The interval never grows past this. Default 5 minutes (the retry backoff's cap). */
  maxIntervalMs?: number;
  now?: () => number;
}

/** What one attempt says about Sailthru being reachable. */
export type Availability = 'answered' | 'unavailable' | 'neutral';

interface Streak {
  failures: number;
  firstLane: string;
  lanes: 1 | 2;
}

export class OutageRecovery {
  private readonly minFailures: number;
  private readonly minIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly now: () => number;
  private readonly streaks = new Map<string, Streak>();
  private readonly wakes = new Map<string, { at: number; intervalMs: number }>();

  constructor(options: OutageRecoveryOptions = {}) {
    this.minFailures = Math.max(2, options.minFailures ?? 3);
    this.minIntervalMs = options.minIntervalMs ?? 10_000;
    this.maxIntervalMs = Math.max(this.minIntervalMs, options.maxIntervalMs ?? 5 * 60_000);
    this.now = options.now ?? Date.now;
  }

  /** Records one settled attempt; true when the destination's waiting lanes should be woken now. */
  record(destinationId: string, laneKey: string, availability: Availability): boolean {
    if (availability === 'neutral') return false;
    const streak = this.streaks.get(destinationId);
    if (availability === 'unavailable') {
      if (!streak) this.streaks.set(destinationId, { failures: 1, firstLane: laneKey, lanes: 1 });
      else {
        streak.failures++;
        if (laneKey !== streak.firstLane) streak.lanes = 2;
      }
      return false;
    }
    if (!streak) return false;
    this.streaks.delete(destinationId);
    if (streak.failures < this.minFailures || streak.lanes < 2) return false;
    const now = this.now();
    const last = this.wakes.get(destinationId);
    if (last === undefined || now - last.at >= 2 * last.intervalMs) {
      this.wakes.set(destinationId, { at: now, intervalMs: this.minIntervalMs });
      return true;
    }
    if (now - last.at < last.intervalMs) return false;
    this.wakes.set(destinationId, { at: now, intervalMs: Math.min(this.maxIntervalMs, 2 * last.intervalMs) });
    return true;
  }
}

/** Whether an attempt reached Sailthru: answered calls count, and retries without a wait do not. */
export function availabilityOf(result: Outcome): Availability {
  if (result.state === 'retry') {
    // No call left (our own rate-limit store failing, a bug in delivery): says nothing of Sailthru.
    if (result.calls.length === 0) return 'neutral';
    // A 429 is Sailthru answering "not so fast", with or without a reset time: not an outage.
    const throttled = result.retryAfterMs !== undefined || result.calls.some((call) => call.status === 429);
    return throttled ? 'neutral' : 'unavailable';
  }
  if (result.state === 'paused') return 'neutral';
  return result.calls.some((call) => call.status > 0 && call.status < 500 && call.status !== 429) ? 'answered' : 'neutral';
}
