import { DEFAULT_WINDOW_MS, type RateLimitOptions } from './options.ts';

export interface RateLimitVerdict {
  limit: number;
  remaining: number;
  /** epoch seconds of the end of the current window (X-Rate-Limit-Reset) */
  reset: number;
  exceeded: boolean;
}

const SAILTHRU_PER_MINUTE = { postUser: 18_000, get: 18_000, other: 2_400 };

/** Sailthru's published ceilings per minute, for a route such as "POST /user". */
export function sailthruPerMinute(route: string): number {
  if (route === 'POST /user') return SAILTHRU_PER_MINUTE.postUser;
  if (route.startsWith('GET ')) return SAILTHRU_PER_MINUTE.get;
  return SAILTHRU_PER_MINUTE.other;
}

interface Window {
  start: number;
  count: number;
  limit: number;
}

/**
 * Fixed-window counters per route, as Sailthru counts: every request that reaches an endpoint
 * counts, including the ones answered 429. Windows are aligned to the epoch so that, with the
 * default one-minute window, X-Rate-Limit-Reset falls on a minute boundary like Sailthru's.
 */
export class FixedWindowRateLimiter {
  private windowMs = DEFAULT_WINDOW_MS;
  private limits: Record<string, number> = {};
  private readonly windows = new Map<string, Window>();

  constructor(options: RateLimitOptions = {}) {
    this.configure(options);
  }

  configure(options: RateLimitOptions): void {
    const windowMs = options.windowMs ?? this.windowMs;
    if (!Number.isInteger(windowMs) || windowMs < 1) throw new RangeError('windowMs must be a positive integer');
    for (const [route, limit] of Object.entries(options.limits ?? {})) {
      if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit for ${route} must be a non-negative integer`);
    }
    this.windowMs = windowMs;
    if (options.limits) this.limits = { ...options.limits };
    this.windows.clear();
  }

  describe(): { windowMs: number; limits: Record<string, number> } {
    return { windowMs: this.windowMs, limits: { ...this.limits } };
  }

  limitFor(route: string): number {
    const explicit = this.limits[route] ?? this.limits[`${route.split(' ')[0]} *`];
    if (explicit !== undefined) return explicit;
    return Math.max(1, Math.round((sailthruPerMinute(route) * this.windowMs) / 60_000));
  }

  /**
   * A count in this window expressed per minute. The X-Rate-Limit-* headers keep Sailthru's
   * meaning (requests per minute) whatever window the emulator counts in, so a client that
   * derives its pace from them (limit / 60 per second) paces right in 1-second test windows too.
   */
  perMinute(count: number): number {
    return Math.round((count * 60_000) / this.windowMs);
  }

  hit(route: string, nowMs: number): RateLimitVerdict {
    const start = nowMs - (nowMs % this.windowMs);
    let window = this.windows.get(route);
    if (!window) {
      window = { start, count: 0, limit: this.limitFor(route) };
      this.windows.set(route, window);
    } else if (window.start !== start) {
      window.start = start;
      window.count = 0;
    }
    window.count++;
    return {
      limit: window.limit,
      remaining: Math.max(0, window.limit - window.count),
      reset: Math.ceil((start + this.windowMs) / 1000),
      exceeded: window.count > window.limit,
    };
  }

  resetCounters(): void {
    this.windows.clear();
  }
}
