import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_WINDOW_MS, RetryPolicy } from '../../src/delivery/retry-policy.ts';

const HOUR = 3_600_000;

describe('RetryPolicy', () => {
  it('doubles from 1 s and stops at the 5 minute cap', () => {
    const policy = new RetryPolicy();
    expect([1, 2, 3, 4, 5, 9, 10, 20, 2000].map((n) => policy.nominalDelayMs(n))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 256_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('uses equal jitter: between half and all of the nominal wait', () => {
    expect(new RetryPolicy({ random: () => 0 }).delayMs(4)).toBe(4000);
    expect(new RetryPolicy({ random: () => 0.5 }).delayMs(4)).toBe(6000);
    expect(new RetryPolicy({ random: () => 0.999999 }).delayMs(4)).toBe(8000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        const policy = new RetryPolicy({ random: () => r });
        const nominal = policy.nominalDelayMs(attempts);
        const delay = policy.delayMs(attempts);
        return delay >= Math.floor(nominal / 2) && delay <= nominal && delay <= 300_000;
      }),
    );
  });

  it('waits at least until the rate-limit reset, spread by up to a second', () => {
    expect(new RetryPolicy({ random: () => 0 }).delayMs(1, 42_000)).toBe(42_000);
    expect(new RetryPolicy({ random: () => 0.5 }).delayMs(1, 42_000)).toBe(42_500);
    // A reset sooner than the backoff does not shorten the backoff.
    expect(new RetryPolicy({ random: () => 0 }).delayMs(10, 100)).toBe(150_000);
  });

  it('believes a rate-limit reset only up to the cap', () => {
    const tenYears = 10 * 365 * 24 * 3_600_000;
    expect(new RetryPolicy({ random: () => 0 }).delayMs(1, tenYears)).toBe(300_000);
    expect(new RetryPolicy({ random: () => 0, capMs: 60_000 }).delayMs(1, tenYears)).toBe(60_000);
    expect(new RetryPolicy({ random: () => 0 }).delayMs(1, Number.POSITIVE_INFINITY)).toBe(300_000);
  });

  it('retries inside the 4 hour window and dead-letters after it with the last error', () => {
    const policy = new RetryPolicy({ random: () => 0 });
    expect(policy.windowMs).toBe(DEFAULT_RETRY_WINDOW_MS);
    const first = new Date('2024-03-01T00:00:00Z');
    const at = (ms: number) => new Date(first.getTime() + ms);

    const early = policy.decide({ attempts: 3, firstAttemptAt: first, now: at(HOUR), reason: 'HTTP 503' });
    expect(early).toEqual({ retry: true, at: at(HOUR + 2000), delayMs: 2000 });
    const late = policy.decide({ attempts: 30, firstAttemptAt: first, now: at(4 * HOUR - 1), reason: 'HTTP 503' });
    expect(late.retry).toBe(true);

    const expired = policy.decide({ attempts: 31, firstAttemptAt: first, now: at(4 * HOUR), reason: 'HTTP 503: Service Unavailable' });
    expect(expired).toEqual({ retry: false, reason: 'gave up after 31 attempts over 4 h: HTTP 503: Service Unavailable' });
  });

  it('gives an event its minimum attempts even when the window has passed (e.g. after a long pause)', () => {
    const policy = new RetryPolicy({ random: () => 0, minAttempts: 3 });
    const first = new Date(0);
    const now = new Date(10 * HOUR);
    expect(policy.decide({ attempts: 1, firstAttemptAt: first, now, reason: 'x' }).retry).toBe(true);
    expect(policy.decide({ attempts: 2, firstAttemptAt: first, now, reason: 'x' }).retry).toBe(true);
    expect(policy.decide({ attempts: 3, firstAttemptAt: first, now, reason: 'x' }).retry).toBe(false);
  });

  it('takes its base, cap and window from options', () => {
    const policy = new RetryPolicy({ baseMs: 10, capMs: 50, windowMs: 1000, minAttempts: 1, random: () => 0 });
    expect([1, 2, 3, 4].map((n) => policy.nominalDelayMs(n))).toEqual([10, 20, 40, 50]);
    expect(policy.decide({ attempts: 1, firstAttemptAt: new Date(0), now: new Date(1000), reason: 'r' }).retry).toBe(false);
  });
});
