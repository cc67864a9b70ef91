import { describe, expect, it } from 'vitest';
import { availabilityOf, OutageRecovery } from '../../src/delivery/outage-recovery.ts';
import type { CallRecord } from '../../src/sailthru/types.ts';

const call = (status: number): CallRecord => ({ method: 'POST', endpoint: '/event', payload: {}, status, durationMs: 1 });

describe('OutageRecovery', () => {
  function recovery(start = 0) {
    let now = start;
    const r = new OutageRecovery({ minFailures: 3, minIntervalMs: 10_000, now: () => now });
    return { r, advance: (ms: number) => (now += ms) };
  }

  it('asks for a wake on the first answered call after three failures in a row from two lanes', () => {
    const { r } = recovery();
    expect(r.record('d', 'u1', 'unavailable')).toBe(false);
    expect(r.record('d', 'u2', 'unavailable')).toBe(false);
    expect(r.record('d', 'u1', 'unavailable')).toBe(false);
    expect(r.record('d', 'u3', 'answered')).toBe(true);
    // The outage is over: the next success is just a success.
    expect(r.record('d', 'u3', 'answered')).toBe(false);
  });

  it('does not count one lane failing alone, or a streak an answer cut short', () => {
    const { r } = recovery();
    for (let i = 0; i < 10; i++) r.record('d', 'poison', 'unavailable');
    expect(r.record('d', 'u1', 'answered')).toBe(false);
    r.record('d', 'u1', 'unavailable');
    r.record('d', 'u2', 'unavailable');
    expect(r.record('d', 'u3', 'answered')).toBe(false);
  });

  it('lets neutral attempts (429s, pauses) neither break nor extend a streak', () => {
    const { r } = recovery();
    r.record('d', 'u1', 'unavailable');
    r.record('d', 'u2', 'neutral');
    r.record('d', 'u2', 'unavailable');
    expect(r.record('d', 'u3', 'neutral')).toBe(false);
    r.record('d', 'u3', 'unavailable');
    expect(r.record('d', 'u4', 'answered')).toBe(true);
  });

  it('keeps destinations apart and wakes one destination at most once per interval', () => {
    const { r, advance } = recovery();
    const outage = (destination: string) => ['u1', 'u2', 'u3'].forEach((u) => r.record(destination, u, 'unavailable'));
    outage('a');
    outage('b');
    expect(r.record('a', 'x', 'answered')).toBe(true);
    expect(r.record('b', 'x', 'answered')).toBe(true);
    advance(9_999);
    outage('a');
    expect(r.record('a', 'x', 'answered')).toBe(false);
    advance(1);
    outage('a');
    expect(r.record('a', 'x', 'answered')).toBe(true);
  });

  it('spaces wakes out further while Sailthru keeps failing, and forgets that after a quiet stretch', () => {
    const { r, advance } = recovery();
    const outageThenAnswer = () => {
      ['u1', 'u2', 'u3'].forEach((u) => r.record('d', u, 'unavailable'));
      return r.record('d', 'x', 'answered');
    };
    expect(outageThenAnswer()).toBe(true);
    // Flapping: each wake within twice the interval of the last doubles the interval.
    advance(10_000);
    expect(outageThenAnswer()).toBe(true); // interval now 20 s
    advance(19_999);
    expect(outageThenAnswer()).toBe(false);
    advance(1);
    expect(outageThenAnswer()).toBe(true); // interval now 40 s
    advance(39_999);
    expect(outageThenAnswer()).toBe(false);
    // Twice the interval without a wake: back to 10 s.
    advance(80_000);
    expect(outageThenAnswer()).toBe(true);
    advance(10_000);
    expect(outageThenAnswer()).toBe(true);
  });

  it('never lets the interval grow past its cap', () => {
    let now = 0;
    const r = new OutageRecovery({ minIntervalMs: 10_000, maxIntervalMs: 30_000, now: () => now });
    const wakes: number[] = [];
    for (let t = 0; t <= 200_000; t += 1_000) {
      now = t;
      ['u1', 'u2', 'u3'].forEach((u) => r.record('d', u, 'unavailable'));
      if (r.record('d', 'x', 'answered')) wakes.push(t);
    }
    expect(wakes.slice(0, 4)).toEqual([0, 10_000, 30_000, 60_000]);
    expect(wakes.slice(3).every((t, i, all) => i === 0 || t - all[i - 1]! === 30_000)).toBe(true);
  });
});

describe('availabilityOf', () => {
  it('reads answered calls, retries without a wait, and throttling', () => {
    expect(availabilityOf({ state: 'delivered', calls: [call(200)], warnings: [] })).toBe('answered');
    // A permanent refusal is still Sailthru answering.
    expect(availabilityOf({ state: 'failed', reason: 'invalid email', calls: [call(400)], warnings: [] })).toBe('answered');
    expect(availabilityOf({ state: 'skipped', reason: 'not mapped', calls: [], warnings: [] })).toBe('neutral');
    expect(availabilityOf({ state: 'retry', reason: 'unreachable', calls: [call(0)], warnings: [] })).toBe('unavailable');
    expect(availabilityOf({ state: 'retry', reason: 'HTTP 503', calls: [call(200), call(503)], warnings: [] })).toBe('unavailable');
    expect(availabilityOf({ state: 'retry', reason: 'rate limited', retryAfterMs: 800, calls: [call(429)], warnings: [] })).toBe('neutral');
    expect(availabilityOf({ state: 'retry', reason: 'rate limited', calls: [call(429)], warnings: [] })).toBe('neutral');
    expect(availabilityOf({ state: 'paused', reason: 'bad key', calls: [call(401)], warnings: [] })).toBe('neutral');
    // No call was made (our own rate-limit store failed, or delivery threw): nothing about Sailthru.
    expect(availabilityOf({ state: 'retry', reason: 'delivery threw: bug', calls: [], warnings: [] })).toBe('neutral');
  });
});
