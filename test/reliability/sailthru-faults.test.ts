import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../src/emulator/index.ts';
import { basic, postJson, waitForDrain } from '../e2e/harness.ts';
import { checkSequences, sequencedEvent, userIdOf } from './support/delivered-sequences.ts';
import { reportFigures } from './support/figures.ts';
import { startProxiedStack, type ProxiedStack } from './support/proxied-stack.ts';
import { seedFromEnv } from './support/random.ts';
import { budgetMs, size } from './support/scale.ts';

// Issue 9, Sailthru misbehaving. One service, one emulator behind a switchable proxy; three
// phases on separate users:
// 1. chaos: 10% HTTP 500, 5% error 9, 5% hangs past the client timeout (10 s), 2% dropped
//    connections — none of them applied by the emulator, so each event must be applied once;
// 2. a total outage (the proxy refuses connections) while events keep arriving;
// 3. a 429 storm: the emulator's limits lowered drastically, then restored.
// After each: every event applied in per-user order, nothing dead-lettered (the retry window is
// 4 hours), and the backlog drains at our configured rate limit without a 429 from Sailthru.
const SEED = seedFromEnv(20261127);
/** Our own pacing for POST /event (SAILTHRU_RATE_LIMITS) and the emulator's matching per-minute limit. */
const EVENT_LIMIT_PER_SECOND = 100;
const NORMAL_LIMITS = { 'POST /event': EVENT_LIMIT_PER_SECOND * 60, 'POST /user': 18_000 };
const CONCURRENCY = 64;

const CHAOS = { users: size(150, 400), perUser: size(6, 25) };
const OUTAGE = { users: size(100, 300), perUser: size(10, 20), ms: size(10_000, 120_000) };
/**
 * The storm: 2 calls per window, in windows of 5 s in the short form and Sailthru's own minute in
 * the full one. A published limit under 60 a minute is read by our gate as "under one a second", so
 * it holds on the 429s' reset without taking the storm's limit as its budget
 * (rate-limit-recovery.test.ts covers a storm limit of 60 or more a minute).
 */
const STORM = { users: size(50, 300), perUser: size(10, 10), ms: size(5_000, 30_000), windowMs: size(5_000, 60_000), limitPerWindow: 2 };

let stack: ProxiedStack;

beforeAll(async () => {
  stack = await startProxiedStack({
    emulator: { limits: NORMAL_LIMITS, maxRequestLog: 1_000_000 },
    env: {
      RETRY_BASE_MS: '50',
      DELIVERY_CONCURRENCY: String(CONCURRENCY),
      SAILTHRU_RATE_LIMITS: `POST /event=${EVENT_LIMIT_PER_SECOND}`,
      LOG_LEVEL: 'warn',
    },
  });
});
// Hung calls hold a lane up to the client timeout (10 s) while the worker stops.
afterAll(() => stack?.stop(), 60_000);

async function post(events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const res = await postJson(`${stack.service.url}/v1/batch`, { batch: events.slice(i, i + 100) }, basic(stack.writeKey));
    expect(res.status).toBe(200);
  }
}

function eventsOf(prefix: string, users: number, perUser: number): unknown[] {
  const all: unknown[] = [];
  for (let seq = 0; seq < perUser; seq++) for (let u = 0; u < users; u++) all.push(sequencedEvent(prefix, u, seq));
  return all;
}

function expectedOf(prefix: string, users: number, perUser: number): Map<string, number> {
  return new Map(Array.from({ length: users }, (_, u) => [userIdOf(prefix, u), perUser] as const));
}

/** Requests about one phase's users (their ids start with the prefix). */
function requestsOf(prefix: string, since = 0): RequestLogEntry[] {
  return stack.emulator.requests({ since }).filter((r) => {
    const id = (r.payload as { id?: unknown } | undefined)?.id;
    return typeof id === 'string' && id.startsWith(`${prefix}-user-`);
  });
}

async function deadLetters(): Promise<number> {
  const backlog = await stack.service.store.backlogByDestination();
  return backlog.reduce((n, b) => n + b.failed, 0);
}

interface DrainRate {
  applied: number;
  seconds: number;
  perSecond: number;
  peakSecond: number;
  rateLimited: number;
}

/** How fast POST /event calls were applied from `fromMs` on: overall and in the best second. */
function drainRate(requests: RequestLogEntry[], fromMs: number): DrainRate {
  const events = requests.filter((r) => r.path === '/event' && Date.parse(r.time) >= fromMs);
  const ok = events.filter((r) => r.status === 200 && r.errorCode === null).map((r) => Date.parse(r.time));
  const first = Math.min(...ok);
  const last = Math.max(...ok);
  const seconds = Math.max(0.001, (last - first) / 1000);
  const buckets = new Map<number, number>();
  for (const t of ok) buckets.set(Math.floor((t - first) / 1000), (buckets.get(Math.floor((t - first) / 1000)) ?? 0) + 1);
  return {
    applied: ok.length,
    seconds: Math.round(seconds * 10) / 10,
    perSecond: Math.round(ok.length / seconds),
    peakSecond: Math.max(...buckets.values()),
    rateLimited: events.filter((r) => r.status === 429).length,
  };
}

describe('Sailthru misbehaving', () => {
  it(
    'chaos (500s, error 9, hangs, dropped connections): every event applied once, in order, none dead-lettered',
    async () => {
      stack.emulator.setFaults({ failRate: 0.1, error9Rate: 0.05, hangRate: 0.05, dropRate: 0.02, seed: SEED });
      const since = stack.emulator.lastRequestSeq;
      await post(eventsOf('chaos', CHAOS.users, CHAOS.perUser));
      await waitForDrain(stack.service, budgetMs(150_000, 900_000));
      stack.emulator.setFaults({});

      const requests = requestsOf('chaos', since);
      const faults = (kind: string) => requests.filter((r) => r.fault === kind).length;
      const report = checkSequences(requests, expectedOf('chaos', CHAOS.users, CHAOS.perUser));
      expect(report.problems).toEqual([]);
      // None of these faults is applied by Sailthru, so nothing may be applied twice.
      expect(report.duplicates).toBe(0);
      expect(await deadLetters()).toBe(0);
      // The faults really happened, each kind.
      for (const kind of ['fail', 'error9', 'hang', 'drop']) expect(faults(kind)).toBeGreaterThan(0);
      reportFigures('sailthru-chaos', {
        seed: SEED,
        events: CHAOS.users * CHAOS.perUser,
        calls: requests.length,
        http500: faults('fail'),
        error9: faults('error9'),
        hangs: faults('hang'),
        drops: faults('drop'),
        applied: report.applied,
        duplicates: report.duplicates,
        deadLettered: 0,
      });
    },
    budgetMs(200_000, 1_000_000),
  );

  it(
    'a total outage: the backlog waits, then drains at the configured rate limit; nothing dead-lettered',
    async () => {
      const since = stack.emulator.lastRequestSeq;
      const events = eventsOf('outage', OUTAGE.users, OUTAGE.perUser);
      await stack.proxy.down();
      const downAt = Date.now();
      // Events keep arriving through the outage.
      const slices = 10;
      for (let i = 0; i < slices; i++) {
        await post(events.slice((i * events.length) / slices, ((i + 1) * events.length) / slices));
        await new Promise((r) => setTimeout(r, OUTAGE.ms / slices));
      }
      const backlogAtEnd = (await stack.service.store.backlogByDestination()).reduce((n, b) => n + b.unsettled, 0);
      await stack.proxy.up();
      const upAt = Date.now();
      await waitForDrain(stack.service, budgetMs(150_000, 900_000));

      const requests = requestsOf('outage', since);
      const report = checkSequences(requests, expectedOf('outage', OUTAGE.users, OUTAGE.perUser));
      expect(report.problems).toEqual([]);
      // A call cut mid-flight by the outage may have been applied; at most one per lane in flight.
      expect(report.duplicates).toBeLessThanOrEqual(CONCURRENCY);
      expect(await deadLetters()).toBe(0);
      expect(backlogAtEnd).toBeGreaterThan(0);
      const rate = drainRate(requests, upAt);
      // We keep to Sailthru's limit: the emulator, set to the same limit, never had to refuse.
      expect(rate.rateLimited).toBe(0);
      expect(rate.peakSecond).toBeLessThanOrEqual(EVENT_LIMIT_PER_SECOND * 2);
      // …and uses it: a tenth of the limit in the best second is a floor even a machine busy with
      // other suites clears (the figures show the real rate), while a budget stuck at the fault's
      // rate (1 or 2 a second) would not.
      expect(rate.peakSecond).toBeGreaterThanOrEqual(EVENT_LIMIT_PER_SECOND / 10);
      reportFigures('sailthru-outage', {
        outageSeconds: Math.round((upAt - downAt) / 1000),
        events: events.length,
        backlogAtRecovery: backlogAtEnd,
        drainSeconds: rate.seconds,
        drainPerSecond: rate.perSecond,
        drainPeakSecond: rate.peakSecond,
        limitPerSecond: EVENT_LIMIT_PER_SECOND,
        rateLimitedDuringDrain: rate.rateLimited,
        duplicates: report.duplicates,
        deadLettered: 0,
      });
    },
    budgetMs(200_000, 1_000_000),
  );

  it(
    'a 429 storm: events wait for the window to reset, then drain at the configured limit; nothing dead-lettered',
    async () => {
      // Sailthru's 429s say when the window resets; the storm is placed to end on a window
      // boundary so it lasts as long as asked.
      const toBoundary = STORM.windowMs - (Date.now() % STORM.windowMs);
      const wait = (toBoundary - (STORM.ms % STORM.windowMs) + STORM.windowMs) % STORM.windowMs;
      await new Promise((r) => setTimeout(r, wait));
      const since = stack.emulator.lastRequestSeq;
      const events = eventsOf('storm', STORM.users, STORM.perUser);
      const stormLimits = { 'POST /event': STORM.limitPerWindow, 'POST /user': STORM.limitPerWindow };
      stack.emulator.setRateLimits({ windowMs: STORM.windowMs, limits: stormLimits });
      const stormStart = Date.now();
      const slices = 5;
      for (let i = 0; i < slices; i++) {
        await post(events.slice((i * events.length) / slices, ((i + 1) * events.length) / slices));
        await new Promise((r) => setTimeout(r, STORM.ms / slices));
      }
      const stormEnd = Math.max(Date.now(), stormStart + STORM.ms);
      await new Promise((r) => setTimeout(r, stormEnd - Date.now()));
      stack.emulator.setRateLimits({ windowMs: 60_000, limits: NORMAL_LIMITS });
      const restoredAt = Date.now();
      await waitForDrain(stack.service, budgetMs(150_000, 900_000));

      const requests = requestsOf('storm', since);
      const report = checkSequences(requests, expectedOf('storm', STORM.users, STORM.perUser));
      expect(report.problems).toEqual([]);
      expect(report.duplicates).toBe(0);
      expect(await deadLetters()).toBe(0);
      const refused = requests.filter((r) => r.status === 429 && Date.parse(r.time) < restoredAt).length;
      expect(refused).toBeGreaterThan(0);
      const rate = drainRate(requests, restoredAt);
      reportFigures('sailthru-429-storm', {
        stormSeconds: Math.round((restoredAt - stormStart) / 1000),
        stormLimit: `${STORM.limitPerWindow} per ${STORM.windowMs / 1000} s`,
        events: events.length,
        answered429: refused,
        drainSeconds: rate.seconds,
        drainPerSecond: rate.perSecond,
        drainPeakSecond: rate.peakSecond,
        limitPerSecond: EVENT_LIMIT_PER_SECOND,
        rateLimitedAfterStorm: rate.rateLimited,
        deadLettered: 0,
      });
      expect(rate.rateLimited).toBe(0);
      expect(rate.peakSecond).toBeLessThanOrEqual(EVENT_LIMIT_PER_SECOND * 2);
      // …and uses it: a tenth of the limit in the best second is a floor even a machine busy with
      // other suites clears (the figures show the real rate), while a budget stuck at the fault's
      // rate (1 or 2 a second) would not.
      expect(rate.peakSecond).toBeGreaterThanOrEqual(EVENT_LIMIT_PER_SECOND / 10);
    },
    budgetMs(300_000, 1_000_000),
  );
});
