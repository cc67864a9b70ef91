/**
 * When to try a failed event again, and when to stop.
 *
 * Backoff is capped exponential with "equal jitter": the n-th retry waits
 * `e/2 + random·e/2` with `e = min(cap, base·2^(n-1))`, so a retry never comes sooner than half
 * the nominal wait (unlike full jitter, which can retry at once and hammer a struggling Sailthru)
 * while lanes that failed together still spread out. Defaults: base 1 s, cap 5 min.
 *
 * A known wait (`retryAfterMs`, from X-Rate-Limit-Reset on a 429) is a floor: the retry comes
 * after it plus up to `resetJitterMs`, so lanes throttled together do not all return the same
 * millisecond the window resets. It is believed only up to the cap: Sailthru's windows are one
 * minute, and a reset "in 10 years" (a proxy's garbage, a clock far off) must not park a lane
 * beyond the backoff's own cap; if Sailthru still refuses then, the next 429 says so again.
 *
 * An event is dead-lettered when a retryable failure happens after its retry window (default
 * 4 hours from its first attempt, as Segment) and it has had at least `minAttempts` attempts
 * (so an event that waited behind a long pause still gets a few tries).
 */
export interface RetryPolicyOptions {
  baseMs?: number;
  capMs?: number;
  windowMs?: number;
  minAttempts?: number;
  resetJitterMs?: number;
  /** [0, 1); injected so tests are exact. */
  random?: () => number;
}

export interface RetryInput {
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attempts: number;
  /** When the event was first attempted (the start of its retry window). */
  firstAttemptAt: Date;
  now: Date;
  /** The failure's own wait, e.g. until X-Rate-Limit-Reset. */
  retryAfterMs?: number;
  reason: string;
}

export type RetryDecision = { retry: true; at: Date; delayMs: number } | { retry: false; reason: string };

export const DEFAULT_RETRY_WINDOW_MS = 4 * 60 * 60 * 1000;

export class RetryPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  readonly windowMs: number;
  readonly minAttempts: number;
  readonly resetJitterMs: number;
  private readonly random: () => number;

  constructor(options: RetryPolicyOptions = {}) {
    this.baseMs = options.baseMs ?? 1000;
    this.capMs = options.capMs ?? 5 * 60 * 1000;
    this.windowMs = options.windowMs ?? DEFAULT_RETRY_WINDOW_MS;
    this.minAttempts = options.minAttempts ?? 3;
    this.resetJitterMs = options.resetJitterMs ?? 1000;
    this.random = options.random ?? Math.random;
  }

  /** The nominal (un-jittered) wait after `attempts` failures. */
  nominalDelayMs(attempts: number): number {
    const exponent = Math.max(0, attempts - 1);
    // 2^exponent overflows to Infinity long before it matters; min() keeps it at the cap.
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(exponent, 60));
  }

  delayMs(attempts: number, retryAfterMs?: number): number {
    const nominal = this.nominalDelayMs(attempts);
    const backoff = nominal / 2 + this.random() * (nominal / 2);
    if (retryAfterMs === undefined || !(retryAfterMs > 0)) return Math.round(backoff);
    return Math.round(Math.max(backoff, Math.min(retryAfterMs, this.capMs) + this.random() * this.resetJitterMs));
  }

  decide(input: RetryInput): RetryDecision {
    const elapsed = input.now.getTime() - input.firstAttemptAt.getTime();
    if (elapsed >= this.windowMs && input.attempts >= this.minAttempts) {
      const hours = Math.round((elapsed / 3_600_000) * 10) / 10;
      return {
        retry: false,
        reason: `gave up after ${input.attempts} attempts over ${hours} h: ${input.reason}`,
      };
    }
    const delayMs = this.delayMs(input.attempts, input.retryAfterMs);
    return { retry: true, at: new Date(input.now.getTime() + delayMs), delayMs };
  }
}
