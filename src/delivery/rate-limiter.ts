import { RateLimiterRes } from 'rate-limiter-flexible';
import type { HttpMethod, RateLimitInfo, RequestGate } from '../sailthru/types.ts';
import { currentGateWaitListener, type GateWaitListener } from './gate-wait.ts';
import { SlidingWindowLimiter } from './sliding-window-limiter.ts';

/**
 * Requests per second per (method, endpoint). A key is `METHOD /path` for one endpoint or
 * `METHOD` for every other endpoint of that method. Sailthru's published ceilings
 * (reference/sailthru-api.md §1.6): POST /user 300/s, every GET 300/s, other POSTs and DELETEs 40/s.
 */
export type RateLimits = Record<string, number>;

export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = {
  'POST /user': 300,
  GET: 300,
  POST: 40,
  DELETE: 40,
};

/**
 * The counter behind one endpoint's budget, as the gate uses it (rate-limiter-flexible's
 * limiters fit): `consume` rejects with a RateLimiterRes when no point is left; `points` follows
 * Sailthru's headers.
 */
export interface PointLimiter {
  points: number;
  consume(key: string, points: number): Promise<RateLimiterRes>;
}

/**
 * Builds the counter behind one endpoint's budget. Memory by default (one process); pass one
 * that returns RateLimiterPostgres / RateLimiterRedis (same keyPrefix, a shared storeClient) so
 * every process spending the same account shares one budget.
 */
export type LimiterFactory = (options: { keyPrefix: string; points: number; duration: number }) => PointLimiter;

/** One process: a sliding window, so no interval of `duration` ever sees more than `points`. */
export const memoryLimiterFactory: LimiterFactory = (options) => new SlidingWindowLimiter(options.points, options.duration * 1000);

export interface RateLimitWait {
  account: string;
  method: HttpMethod;
  endpoint: string;
  waitedMs: number;
}

export interface SailthruRateGateOptions {
  /**
   * Which Sailthru account's budget this is; part of the shared counter key. Pass an opaque id
   * (e.g. a hash of the API key), not a credential: with Redis or Postgres it is stored there.
   */
  account: string;
  limits?: RateLimits;
  factory?: LimiterFactory;
  /** Called for every request that had to wait for its turn (metrics). */
  onWait?: (wait: RateLimitWait) => void;
  /** Called when the counter store fails; the request then goes ahead (fail open). */
  onStoreError?: (error: unknown) => void;
}

/** Longest we believe a Sailthru reset can be away (its windows are one minute). */
const MAX_HOLD_MS = 60_000;
/** When Sailthru's reset is already past by our clock (skew), hold this long instead. */
const MIN_HOLD_MS = 1000;

interface Waiter {
  resolve: () => void;
  since: number;
  /** The delivery that made the request (gate-wait.ts), told once the request has to wait. */
  listener: GateWaitListener | undefined;
  /** Whether `listener.waiting()` has been called (then `granted()` is owed). */
  reported: boolean;
}

/** One (method, endpoint) budget: a counter, a FIFO of waiting requests and an optional hold. */
class EndpointBudget {
  readonly waiters: Waiter[] = [];
  heldUntil = 0;
  pumping = false;
  /** The pump is sleeping for a point (or a hold): every waiter now has to wait. */
  sleeping = false;
  /** Waiters with a listener not yet told they wait (saves a scan when there are none). */
  unreported = 0;
  constructor(
    readonly method: HttpMethod,
    readonly endpoint: string,
    readonly key: string,
    readonly limiter: PointLimiter,
    /** Our own per-second limit for this endpoint, before any header correction. */
    readonly configuredPoints: number,
  ) {}
}

/**
 * The RequestGate of one Sailthru account: requests wait in line, first come first served, for a
 * point of their endpoint's per-second budget rather than being refused, so Sailthru rarely has
 * to answer 429. Sailthru's X-Rate-Limit-* headers correct the budget: a lower published limit
 * lowers ours, and `remaining: 0` holds the endpoint until the reset Sailthru announced.
 */
export class SailthruRateGate implements RequestGate {
  private readonly budgets = new Map<string, EndpointBudget>();
  private readonly limits: RateLimits;
  private readonly factory: LimiterFactory;

  constructor(private readonly options: SailthruRateGateOptions) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...options.limits };
    this.factory = options.factory ?? memoryLimiterFactory;
  }

  acquire(method: HttpMethod, endpoint: string): Promise<void> {
    const budget = this.budgetFor(method, endpoint);
    const listener = currentGateWaitListener();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { resolve, since: Date.now(), listener, reported: false };
      budget.waiters.push(waiter);
      // A request that finds the budget spent waits: say so now. One that may go at once is
      // reported only if the pump then has to sleep before its turn (reportWaiting).
      if (listener !== undefined) {
        if (budget.sleeping) report(waiter);
        else budget.unreported++;
      }
      if (!budget.pumping) void this.pump(budget);
    });
  }

  observe(method: HttpMethod, endpoint: string, info: RateLimitInfo): void {
    const budget = this.budgetFor(method, endpoint);
    const perSecond = Math.floor(info.limit / 60);
    if (Number.isFinite(perSecond) && perSecond >= 1) {
      // Follow the published limit both ways, never above our own: a temporary cut (a 429
      // storm, a lowered account limit) must not keep us slow once Sailthru publishes more again.
      budget.limiter.points = Math.min(budget.configuredPoints, perSecond);
    }
    if (info.remaining <= 0) {
      const now = Date.now();
      const resetAt = info.reset * 1000;
      const until = resetAt > now ? Math.min(resetAt, now + MAX_HOLD_MS) : now + MIN_HOLD_MS;
      budget.heldUntil = Math.max(budget.heldUntil, until);
    }
  }

  /** The per-second budget now in force for an endpoint (after header corrections). */
  pointsPerSecond(method: HttpMethod, endpoint: string): number {
    return this.budgetFor(method, endpoint).limiter.points;
  }

  /** Requests waiting in line for an endpoint. */
  waiting(method: HttpMethod, endpoint: string): number {
    return this.budgetFor(method, endpoint).waiters.length;
  }

  /**
   * At least `atLeast` requests, and at least a second of the endpoint's budget, are already
   * waiting in line (or the endpoint is held): one more request would add nothing to its rate,
   * only to the wait.
   */
  crowded(method: HttpMethod, endpoint: string, atLeast = 1): boolean {
    const budget = this.budgetFor(method, endpoint);
    return budget.heldUntil > Date.now() || budget.waiters.length >= Math.max(1, atLeast, budget.limiter.points);
  }

  private budgetFor(method: HttpMethod, rawEndpoint: string): EndpointBudget {
    const endpoint = normaliseEndpoint(rawEndpoint);
    const id = `${method} ${endpoint}`;
    let budget = this.budgets.get(id);
    if (!budget) {
      const points = this.limits[id] ?? this.limits[method] ?? DEFAULT_RATE_LIMITS[method]!;
      const limiter = this.factory({ keyPrefix: 'sailthru-rate', points, duration: 1 });
      budget = new EndpointBudget(method, endpoint, `${this.options.account}:${id}`, limiter, points);
      this.budgets.set(id, budget);
    }
    return budget;
  }

  /** Hands out points to the waiters of one budget, in order, waiting whenever none is left. */
  private async pump(budget: EndpointBudget): Promise<void> {
    budget.pumping = true;
    try {
      while (budget.waiters.length > 0) {
        const held = budget.heldUntil - Date.now();
        if (held > 0) {
          await sleepWaiting(budget, held);
          continue;
        }
        const wait = await this.take(budget);
        if (wait > 0) {
          await sleepWaiting(budget, wait);
          continue;
        }
        const waiter = budget.waiters.shift()!;
        if (waiter.reported) tell(() => waiter.listener!.granted());
        else if (waiter.listener !== undefined) budget.unreported--;
        const waitedMs = Date.now() - waiter.since;
        if (waitedMs > 0) {
          this.options.onWait?.({ account: this.options.account, method: budget.method, endpoint: budget.endpoint, waitedMs });
        }
        waiter.resolve();
      }
    } finally {
      budget.pumping = false;
    }
  }

  /** 0 when a point was taken, else how long until the window has points again. */
  private async take(budget: EndpointBudget): Promise<number> {
    try {
      await budget.limiter.consume(budget.key, 1);
      return 0;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, rejection.msBeforeNext);
      // The shared counter is unreachable: sending is better than stalling every delivery, and a
      // 429 from Sailthru is still handled as a retry.
      this.options.onStoreError?.(rejection);
      return 0;
    }
  }
}

function normaliseEndpoint(endpoint: string): string {
  const path = endpoint.split('?')[0]!.toLowerCase();
  return path.startsWith('/') ? path : `/${path}`;
}

/** Sleeps for the budget's next point, every waiter's delivery told it is waiting meanwhile. */
async function sleepWaiting(budget: EndpointBudget, ms: number): Promise<void> {
  if (budget.unreported > 0) {
    for (const waiter of budget.waiters) if (waiter.listener !== undefined && !waiter.reported) report(waiter);
    budget.unreported = 0;
  }
  budget.sleeping = true;
  try {
    await sleep(ms);
  } finally {
    budget.sleeping = false;
  }
}

function report(waiter: Waiter): void {
  waiter.reported = true;
  tell(() => waiter.listener!.waiting());
}

/** A listener's mistake must not stop the pump (every later request of the endpoint would hang). */
function tell(call: () => void): void {
  try {
    call();
  } catch {
    // Only the worker's slot accounting misses one report; the request itself goes on.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
