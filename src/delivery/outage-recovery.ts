import type { Outcome } from '../destination/outcome.ts';

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

/**
 * Notices Sailthru answering again after an outage, so that the lanes which backed off during it
 * retry now instead of each waiting out its own backoff (what counts as an outage and how often
 * it wakes: docs/decisions.md, "Outage recovery").
 */
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
