import { RateLimiterRes } from 'rate-limiter-flexible';

/**
 * At most `points` grants per key in ANY `durationMs` interval, not just in fixed windows: the
 * one-process counter behind the rate gate. A fixed window that starts at our first request lets
 * up to twice its points through across the edge of Sailthru's own window (the emulator's
 * per-second windows answered 0.7% of a POST /user backlog with 429 that way); a log of the last
 * `points` grant times never does, whatever the other side's window alignment.
 *
 * Same contract as rate-limiter-flexible's limiters where the gate uses them: `points` may be
 * changed at any time (header corrections), and a refusal rejects with a RateLimiterRes whose
 * `msBeforeNext` says when a point frees up.
 */
export class SlidingWindowLimiter {
  private readonly grants = new Map<string, number[]>();

  constructor(
    public points: number,
    private readonly durationMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  consume(key: string | number, points = 1): Promise<RateLimiterRes> {
    const id = String(key);
    const now = this.now();
    let log = this.grants.get(id);
    if (log === undefined) {
      log = [];
      this.grants.set(id, log);
    }
    // Times are in grant order: drop those that have left the interval ending now.
    let expired = 0;
    while (expired < log.length && log[expired]! <= now - this.durationMs) expired++;
    if (expired > 0) log.splice(0, expired);
    const limit = Math.max(0, Math.floor(this.points));
    if (log.length + points > limit) {
      // The point that frees up first is the (overflow)th oldest grant leaving the interval.
      const freedBy = log[Math.min(log.length - 1, Math.max(0, log.length + points - limit - 1))];
      const msBeforeNext = freedBy === undefined ? this.durationMs : Math.max(1, freedBy + this.durationMs - now);
      return Promise.reject(new RateLimiterRes(Math.max(0, limit - log.length), msBeforeNext, log.length, false));
    }
    for (let i = 0; i < points; i++) log.push(now);
    return Promise.resolve(new RateLimiterRes(limit - log.length, this.durationMs, log.length, log.length === points));
  }
}
