import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { withGateWaitListener } from '../../src/delivery/gate-wait.ts';
import { SailthruRateGate, type LimiterFactory, type RateLimitWait } from '../../src/delivery/rate-limiter.ts';
import type { HttpMethod } from '../../src/sailthru/types.ts';

const START = Date.parse('2024-03-01T12:00:00.000Z');

/** Fires `count` acquisitions at once and records the (fake) time each is granted. */
function fire(gate: SailthruRateGate, method: HttpMethod, endpoint: string, count: number): { granted: number[]; order: number[] } {
  const granted: number[] = [];
  const order: number[] = [];
  for (let i = 0; i < count; i++) {
    void gate.acquire(method, endpoint).then(() => {
      granted.push(Date.now());
      order.push(i);
    });
  }
  return { granted, order };
}

/** Grants per one-second window counted from START. */
function perSecond(granted: number[]): number[] {
  const counts: number[] = [];
  for (const t of granted) {
    const w = Math.floor((t - START) / 1000);
    counts[w] = (counts[w] ?? 0) + 1;
  }
  return Array.from(counts, (c) => c ?? 0);
}

describe('SailthruRateGate (fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(START);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('paces other POSTs at 40 per second, in the order they asked, without refusing any', async () => {
    const gate = new SailthruRateGate({ account: 'acct' });
    const { granted, order } = fire(gate, 'POST', '/event', 100);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(40);
    expect(gate.waiting('POST', '/event')).toBe(60);
    await vi.advanceTimersByTimeAsync(3000);
    expect(granted).toHaveLength(100);
    expect(perSecond(granted)).toEqual([40, 40, 20]);
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('has Sailthru’s defaults per method and endpoint, each its own budget', async () => {
    const gate = new SailthruRateGate({ account: 'acct' });
    expect(gate.pointsPerSecond('POST', '/user')).toBe(300);
    expect(gate.pointsPerSecond('GET', '/user')).toBe(300);
    expect(gate.pointsPerSecond('GET', '/purchase')).toBe(300);
    expect(gate.pointsPerSecond('POST', '/purchase')).toBe(40);
    expect(gate.pointsPerSecond('DELETE', '/user')).toBe(40);
    expect(gate.pointsPerSecond('POST', '/v1/track/event/pageview')).toBe(40);

    const user = fire(gate, 'POST', '/user', 350);
    const purchase = fire(gate, 'POST', '/purchase', 50);
    await vi.advanceTimersByTimeAsync(0);
    expect(user.granted).toHaveLength(300);
    expect(purchase.granted).toHaveLength(40);
    await vi.advanceTimersByTimeAsync(1000);
    expect(perSecond(user.granted)).toEqual([300, 50]);
    expect(perSecond(purchase.granted)).toEqual([40, 10]);
  });

  it('takes limits from options, exact endpoints before method-wide ones', () => {
    const gate = new SailthruRateGate({ account: 'acct', limits: { 'POST /event': 5, POST: 7 } });
    expect(gate.pointsPerSecond('POST', '/event')).toBe(5);
    expect(gate.pointsPerSecond('POST', '/purchase')).toBe(7);
    expect(gate.pointsPerSecond('POST', '/user')).toBe(300);
  });

  it('holds an endpoint whose Sailthru budget is spent until the announced reset', async () => {
    const gate = new SailthruRateGate({ account: 'acct' });
    const resetSec = Math.floor(START / 1000) + 20;
    gate.observe('POST', '/event', { limit: 2400, remaining: 0, reset: resetSec });
    const held = fire(gate, 'POST', '/event', 3);
    const other = fire(gate, 'POST', '/purchase', 1);
    await vi.advanceTimersByTimeAsync(19_999);
    expect(held.granted).toHaveLength(0);
    expect(other.granted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(held.granted).toEqual([resetSec * 1000, resetSec * 1000, resetSec * 1000]);
  });

  it('bounds a hold when the announced reset is in the past or implausibly far', async () => {
    const gate = new SailthruRateGate({ account: 'acct' });
    gate.observe('GET', '/user', { limit: 18_000, remaining: 0, reset: Math.floor(START / 1000) - 5 });
    const past = fire(gate, 'GET', '/user', 1);
    await vi.advanceTimersByTimeAsync(999);
    expect(past.granted).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(past.granted).toHaveLength(1);

    gate.observe('DELETE', '/user', { limit: 2400, remaining: 0, reset: Math.floor(START / 1000) + 3600 });
    const far = fire(gate, 'DELETE', '/user', 1);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(far.granted).toHaveLength(1);
  });

  it('follows the per-minute limit Sailthru announces down, and back up to its own limit, never above it', async () => {
    const gate = new SailthruRateGate({ account: 'acct' });
    gate.observe('POST', '/user', { limit: 600, remaining: 500, reset: Math.floor(START / 1000) + 60 });
    expect(gate.pointsPerSecond('POST', '/user')).toBe(10);
    const { granted } = fire(gate, 'POST', '/user', 25);
    await vi.advanceTimersByTimeAsync(3000);
    expect(perSecond(granted)).toEqual([10, 10, 5]);
    // The cut was temporary: a normal announcement brings our own 300/s back, and 36,000/min
    // (600/s) does not lift us above it.
    gate.observe('POST', '/user', { limit: 36_000, remaining: 500, reset: Math.floor(START / 1000) + 120 });
    expect(gate.pointsPerSecond('POST', '/user')).toBe(300);
  });

  it('reports each wait for the metrics', async () => {
    const waits: RateLimitWait[] = [];
    const gate = new SailthruRateGate({ account: 'acct', limits: { POST: 2 }, onWait: (w) => waits.push(w) });
    fire(gate, 'POST', '/Event?x=1', 5);
    await vi.advanceTimersByTimeAsync(3000);
    // Two go at once; the next two wait for the second window, the last for the third.
    expect(waits).toEqual([
      { account: 'acct', method: 'POST', endpoint: '/event', waitedMs: 1000 },
      { account: 'acct', method: 'POST', endpoint: '/event', waitedMs: 1000 },
      { account: 'acct', method: 'POST', endpoint: '/event', waitedMs: 2000 },
    ]);
  });

  it('tells the delivery that made a request when it waits for its budget and when it is let through', async () => {
    const gate = new SailthruRateGate({ account: 'acct', limits: { POST: 2 } });
    const told: string[] = [];
    const listenerFor = (name: string) => ({ waiting: () => told.push(`${name} waits`), granted: () => told.push(`${name} goes`) });
    const deliveries = ['a', 'b', 'c', 'd'].map((name) =>
      withGateWaitListener(listenerFor(name), async () => {
        await gate.acquire('POST', '/event');
        told.push(`${name} sent`);
      }),
    );
    // A request outside any delivery waits too, and tells no one.
    void gate.acquire('POST', '/event');
    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all(deliveries);
    // Two go at once without a word; the other two wait for the next window, then go in order.
    expect(told).toEqual(['a sent', 'b sent', 'c waits', 'd waits', 'c goes', 'c sent', 'd goes', 'd sent']);
  });

  it('shares one budget between gates of the same account on a shared counter store', async () => {
    // Two processes on one Redis/Postgres counter look like two gates on one limiter store.
    const shared = new Map<number, RateLimiterMemory>();
    const factory: LimiterFactory = (opts) => {
      const existing = shared.get(opts.points);
      if (existing) return existing;
      const limiter = new RateLimiterMemory(opts);
      shared.set(opts.points, limiter);
      return limiter;
    };
    const a = new SailthruRateGate({ account: 'acct', factory });
    const b = new SailthruRateGate({ account: 'acct', factory });
    const ga = fire(a, 'POST', '/event', 30);
    const gb = fire(b, 'POST', '/event', 30);
    await vi.advanceTimersByTimeAsync(0);
    expect(ga.granted.length + gb.granted.length).toBe(40);
    await vi.advanceTimersByTimeAsync(1000);
    expect(perSecond([...ga.granted, ...gb.granted])).toEqual([40, 20]);
  });

  it('lets requests go when the counter store fails, and says so', async () => {
    const errors: unknown[] = [];
    const broken: LimiterFactory = (opts) => {
      const limiter = new RateLimiterMemory(opts);
      limiter.consume = () => Promise.reject(new Error('redis down'));
      return limiter;
    };
    const gate = new SailthruRateGate({ account: 'acct', factory: broken, onStoreError: (e) => errors.push(e) });
    const { granted } = fire(gate, 'POST', '/event', 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(3);
    expect(errors).toHaveLength(3);
  });
});

describe('the one-process budget (sliding window)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(START);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The most grants in any interval of `ms` (not only in windows aligned to START). */
  function busiestInterval(granted: number[], ms: number): number {
    const sorted = [...granted].sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i]! - sorted[j]! >= ms) j++;
      most = Math.max(most, i - j + 1);
    }
    return most;
  }

  it('never grants more than the limit in any one-second interval, whatever the other side\'s window edges', async () => {
    const gate = new SailthruRateGate({ account: 'acct', limits: { 'POST /user': 300 } });
    // Requests trickle in, then a burst arrives half-way through a second.
    const first = fire(gate, 'POST', '/user', 200);
    await vi.advanceTimersByTimeAsync(500);
    const burst = fire(gate, 'POST', '/user', 1000);
    await vi.advanceTimersByTimeAsync(5000);
    const granted = [...first.granted, ...burst.granted];
    expect(granted).toHaveLength(1200);
    expect(busiestInterval(granted, 1000)).toBe(300);
    // A fixed window begun at the first request would have let 200 + 300 through between 0.5 s and 1.5 s.
    expect(granted.filter((t) => t >= START + 500 && t < START + 1500)).toHaveLength(300);
  });

  it('keeps the full rate over a backlog: 1,200 requests at 300/s take four seconds', async () => {
    const gate = new SailthruRateGate({ account: 'acct', limits: { 'POST /user': 300 } });
    const { granted } = fire(gate, 'POST', '/user', 1200);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(perSecond(granted)).toEqual([300, 300, 300, 300]);
  });
});
