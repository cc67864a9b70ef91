import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/destination/outcome.ts';
import { RetryPolicy } from '../../src/delivery/retry-policy.ts';
import { openSqliteStore, type SqliteEventStore } from '../../src/delivery/sqlite-store.ts';
import type { QueuedEvent } from '../../src/delivery/store.ts';
import { DeliveryWorker, type Deliver, type SettledEvent } from '../../src/delivery/worker.ts';
import { FakeClock, SETTINGS, batchOf, deferred, prng, tempDir, trackEvent, until } from './helpers.ts';

const delivered = (): Outcome => ({ state: 'delivered', calls: [], warnings: [] });
const retry = (reason = 'HTTP 503'): Outcome => ({ state: 'retry', reason, calls: [], warnings: [] });
/** Retries come due within milliseconds, so queue semantics run at full speed. */
const fastRetries = () => new RetryPolicy({ baseMs: 1, capMs: 8, minAttempts: 1_000_000 });

describe('DeliveryWorker', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  const workers: DeliveryWorker[] = [];

  beforeEach(async () => {
    tmp = tempDir('worker-');
    store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
    await store.createDestination({ id: 'd', name: 'D', settings: SETTINGS });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await store.close();
    tmp.remove();
  });

  function startWorker(deliver: Deliver, options: Partial<ConstructorParameters<typeof DeliveryWorker>[0]> = {}): DeliveryWorker {
    const worker = new DeliveryWorker({ store, deliver, concurrency: 8, pollMs: 20, retryPolicy: fastRetries(), ...options });
    worker.on('problem', (error) => {
      throw error;
    });
    workers.push(worker);
    worker.start();
    return worker;
  }

  it('delivers 50 lanes × 20 events each exactly once and in order, through random transient failures', async () => {
    const lanes = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    const sent = new Map<string, string[]>(lanes.map((l) => [l, []]));
    const got = new Map<string, string[]>(lanes.map((l) => [l, []]));
    const busy = new Set<string>();
    const violations: string[] = [];
    const random = prng(7);
    let attempts = 0;

    const deliver: Deliver = async (_destination, event) => {
      attempts++;
      if (busy.has(event.laneKey)) violations.push(`two events of ${event.laneKey} in flight at once`);
      busy.add(event.laneKey);
      await new Promise((r) => setImmediate(r));
      busy.delete(event.laneKey);
      if (random() < 0.3) return retry();
      got.get(event.laneKey)!.push(event.messageId);
      return delivered();
    };

    // Interleaved batches, half before the worker starts and half while it runs.
    const append = async (round: number) => {
      const events = lanes.map((l) => trackEvent(l, { properties: { round } }));
      for (const e of events) sent.get(e.userId!)!.push(e.messageId);
      await store.append(batchOf('d', events));
    };
    for (let round = 0; round < 10; round++) await append(round);
    startWorker(deliver);
    for (let round = 10; round < 20; round++) await append(round);

    await until(() => [...got.values()].every((g) => g.length >= 20));
    for (const lane of lanes) expect(got.get(lane)).toEqual(sent.get(lane));
    expect(violations).toEqual([]);
    expect(attempts).toBeGreaterThan(1000);
    // The last settlements commit just after their deliver calls returned.
    await until(async () => (await store.backlog()) === 0);
    expect((await store.search({ status: ['pending', 'retrying', 'failed'] })).events).toEqual([]);
  });

  it('a lane that keeps failing holds only itself', async () => {
    const stuck = [trackEvent('stuck'), trackEvent('stuck')];
    const others = Array.from({ length: 30 }, (_, i) => trackEvent(`ok-${i % 10}`));
    await store.append(batchOf('d', [...stuck, ...others]));
    const deliveredIds: string[] = [];
    let stuckAttempts = 0;
    startWorker(async (_d, event) => {
      if (event.laneKey === 'stuck') {
        stuckAttempts++;
        return retry('HTTP 500');
      }
      deliveredIds.push(event.messageId);
      return delivered();
    });
    await until(
      async () => deliveredIds.length === 30 && ((await store.head({ destinationId: 'd', laneKey: 'stuck' }))?.attempts ?? 0) >= 3,
    );
    expect(stuckAttempts).toBeGreaterThanOrEqual(3);
    const [head, second] = (await store.search({ laneKey: 'stuck' })).events.reverse();
    expect(head).toMatchObject({ status: 'retrying', lastError: 'HTTP 500' });
    expect(head!.attempts).toBeGreaterThanOrEqual(3);
    expect(second).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('pauses a destination on an account-wide error without dead-lettering, and resumes in order', async () => {
    await store.createDestination({ id: 'other', name: 'O', settings: SETTINGS });
    const paused = Array.from({ length: 12 }, (_, i) => trackEvent(`u${i % 4}`));
    const fine = Array.from({ length: 12 }, (_, i) => trackEvent(`u${i % 4}`));
    await store.append(batchOf('d', paused));
    await store.append(batchOf('other', fine));
    let broken = true;
    const got: QueuedEvent[] = [];
    let pausedAnswers = 0;
    startWorker(async (destination, event) => {
      if (destination === 'd' && broken) {
        pausedAnswers++;
        return { state: 'paused', reason: 'Invalid API key (error 3)', calls: [], warnings: [] };
      }
      got.push(event);
      return delivered();
    });
    await until(async () => got.length === 12 && (await store.getDestination('d'))!.paused);
    expect(got.every((e) => e.destinationId === 'other')).toBe(true);
    expect((await store.getDestination('d'))!.pauseReason).toBe('Invalid API key (error 3)');
    // Nothing lost or dead-lettered; at most one attempt per lane that was in flight.
    const queued = (await store.search({ destinationId: 'd' })).events;
    expect(queued.map((e) => e.status)).toEqual(Array(12).fill('pending'));
    expect(pausedAnswers).toBeLessThanOrEqual(4);

    broken = false;
    await store.resumeDestination('d');
    await until(() => got.length === 24);
    for (let u = 0; u < 4; u++) {
      const order = got.filter((e) => e.destinationId === 'd' && e.laneKey === `u${u}`).map((e) => e.messageId);
      expect(order).toEqual(paused.filter((e) => e.userId === `u${u}`).map((e) => e.messageId));
    }
  });

  it('stop() finishes the event in flight, takes no next one, and gives the lane back', async () => {
    const events = [trackEvent('u1'), trackEvent('u1')];
    await store.append(batchOf('d', events));
    const gate = deferred<void>();
    const calls: string[] = [];
    const worker = startWorker(async (_d, event) => {
      calls.push(event.messageId);
      await gate.promise;
      return delivered();
    });
    await until(() => calls.length === 1);
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(calls).toEqual([events[0]!.messageId]);
    expect((await store.getEvent((await store.search({ messageId: events[0]!.messageId })).events[0]!.id))!.event.status).toBe(
      'delivered',
    );
    // Released, not left to its lease: another worker can claim it at once.
    expect((await store.claimLanes('next', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
  });

  it('takes a lane’s events from its claim and settles them in runs: no head() per event, one settle per window', async () => {
    const events = Array.from({ length: 40 }, () => trackEvent('u1'));
    await store.append(batchOf('d', events));
    const counted = { head: 0, settle: 0, settleLane: 0, heads: 0, releaseLane: 0 };
    // The worker sees the store through this: every call it makes is counted, then passed on.
    const counting = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (key === 'head' || key === 'settle' || key === 'releaseLane') counted[key]++;
          if (key === 'settleLane') {
            counted.settleLane++;
            counted.heads += (args[0] as { heads: unknown[] }).heads.length;
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const got: string[] = [];
    startWorker(
      async (_destination, event) => {
        got.push(event.messageId);
        return delivered();
      },
      { store: counting, window: 16, settleDelayMs: 60_000 },
    );
    await until(async () => (await store.backlog()) === 0);
    expect(got).toEqual(events.map((e) => e.messageId));
    expect(counted.head).toBe(0);
    expect(counted.settle).toBe(0);
    expect(counted.heads).toBe(40);
    // 16 + 16 + 8, the last run also giving the lane back: no separate release.
    expect(counted.settleLane).toBe(3);
    expect(counted.releaseLane).toBe(0);
    expect(await store.claimLanes('next', 10, 30_000)).toEqual([]);
  });

  it('by default settles each event before delivering its user’s next: a crash sends again only what was in flight', async () => {
    const events = Array.from({ length: 6 }, () => trackEvent('u1'));
    await store.append(batchOf('d', events));
    const unsettledBefore: string[] = [];
    let previous: QueuedEvent | null = null;
    startWorker(async (_destination, event) => {
      if (previous && (await store.getEvent(previous.id))!.event.status !== 'delivered') unsettledBefore.push(event.messageId);
      previous = event;
      return delivered();
    });
    await until(async () => (await store.backlog()) === 0);
    expect(unsettledBefore).toEqual([]);
  });

  it('a lane it claims again while handing it back for a retry goes on with that retry first', async () => {
    const events = [trackEvent('u1'), trackEvent('u1'), trackEvent('u1')];
    await store.append(batchOf('d', events));
    let worker: DeliveryWorker | null = null;
    let reclaimed = false;
    // Between the retry's settle and the worker hearing of it, its own claim loop takes the lane
    // again (the retry is due at once): the race this covers, made certain.
    const racing = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key === 'claimLanes') {
          return async (...args: Parameters<SqliteEventStore['claimLanes']>) => {
            const lanes = await target.claimLanes(...args);
            if (lanes.some((l) => l.laneKey === 'u1')) reclaimed = true;
            return lanes;
          };
        }
        if (key === 'settleLane') {
          return async (input: Parameters<SqliteEventStore['settleLane']>[0]) => {
            const result = await target.settleLane(input);
            if (input.heads.at(-1)?.settlement.state === 'retrying') {
              reclaimed = false;
              await until(() => {
                worker!.wake();
                return reclaimed;
              });
            }
            return result;
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const tried: string[] = [];
    worker = startWorker(
      async (_destination, event) => {
        tried.push(event.messageId);
        return tried.length === 1 ? retry() : delivered();
      },
      { store: racing, retryPolicy: new RetryPolicy({ baseMs: 0, capMs: 0, minAttempts: 1_000_000 }), pollMs: 60_000 },
    );
    await until(async () => (await store.backlog()) === 0);
    const [a, b, c] = events.map((e) => e.messageId);
    expect(tried).toEqual([a, a, b, c]);
  });

  it('turns a throwing deliver into a retry with the error recorded', async () => {
    await store.append(batchOf('d', [trackEvent('u1')]));
    let n = 0;
    startWorker(async () => {
      n++;
      if (n === 1) throw new Error('boom');
      return delivered();
    });
    await until(async () => (await store.search({ status: 'delivered' })).events.length === 1);
    const [event] = (await store.search({ laneKey: 'u1' })).events;
    const detail = (await store.getEvent(event!.id))!;
    expect(detail.attempts.map((a) => [a.state, a.error])).toEqual([
      ['retry', 'delivery threw: boom'],
      ['delivered', null],
    ]);
  });

  describe('after an outage', () => {
    const answered = (): Outcome => ({
      state: 'delivered',
      calls: [{ method: 'POST', endpoint: '/event', payload: {}, status: 200, durationMs: 1 }],
      warnings: [],
    });
    const unreachable = (): Outcome => ({
      state: 'retry',
      reason: 'Could not reach api.sailthru.com: connect ECONNREFUSED',
      calls: [{ method: 'POST', endpoint: '/event', payload: {}, status: 0, durationMs: 1 }],
      warnings: [],
    });
    /** A backoff no test waits for: the first retry comes 60 to 120 s after the failure. */
    const slowRetries = () => new RetryPolicy({ baseMs: 120_000 });
    const heads = async (status: 'retrying' | 'pending') => (await store.search({ status })).events;

    it('the first answered call makes every lane that backed off during it due at once', async () => {
      let up = false;
      const deliveredLanes: string[] = [];
      const deliver: Deliver = async (_destination, event) => {
        if (!up) return unreachable();
        deliveredLanes.push(event.laneKey);
        return answered();
      };
      const worker = startWorker(deliver, { retryPolicy: slowRetries() });
      const recovered: Array<{ destinationId: string; lanes: number }> = [];
      worker.on('recovered', (r) => recovered.push(r));
      await store.append(batchOf('d', ['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => trackEvent(u))));
      await until(async () => (await heads('retrying')).length === 5);
      up = true;
      // A new user's event is the first call to reach Sailthru again.
      await store.append(batchOf('d', [trackEvent('probe')]));
      await until(() => deliveredLanes.length === 6);
      expect(deliveredLanes[0]).toBe('probe');
      expect(deliveredLanes.slice(1).sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
      expect(recovered).toEqual([{ destinationId: 'd', lanes: 5 }]);
    });

    it('one lane failing on its own among successes keeps its backoff', async () => {
      const deliver: Deliver = async (_destination, event) => (event.laneKey === 'poison' ? unreachable() : answered());
      const worker = startWorker(deliver, { retryPolicy: slowRetries() });
      const recovered: unknown[] = [];
      worker.on('recovered', (r) => recovered.push(r));
      await store.append(batchOf('d', [trackEvent('poison'), trackEvent('poison')]));
      await until(async () => (await heads('retrying')).length === 1);
      await store.append(batchOf('d', Array.from({ length: 20 }, (_, i) => trackEvent(`ok-${i % 4}`))));
      await until(async () => (await store.backlog()) === 2);
      const [poison] = await heads('retrying');
      expect(poison).toMatchObject({ laneKey: 'poison', attempts: 1 });
      expect(poison!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 30_000);
      expect(recovered).toEqual([]);
    });
  });

  it('wakes on append without waiting for the poll', async () => {
    const got: string[] = [];
    startWorker(
      async (_d, e) => {
        got.push(e.messageId);
        return delivered();
      },
      { pollMs: 3_600_000 },
    );
    const e = trackEvent('u1');
    await store.append(batchOf('d', [e]));
    await until(() => got.length === 1);
    expect(got).toEqual([e.messageId]);
  });

  it('reports every settlement with its latency from receipt', async () => {
    const settled: SettledEvent[] = [];
    const e = trackEvent('u1');
    await store.append(batchOf('d', [e], { receivedAt: new Date(Date.now() - 5000) }));
    let first = true;
    const worker = startWorker(async () => {
      if (first) {
        first = false;
        return retry();
      }
      return delivered();
    });
    worker.on('settled', (s) => settled.push(s));
    await until(() => settled.length === 2);
    expect(settled.map((s) => s.settlement.state)).toEqual(['retrying', 'delivered']);
    expect(settled[0]!.latencyMs).toBeNull();
    expect(settled[1]!.latencyMs).toBeGreaterThanOrEqual(5000);
    expect(settled.every((s) => s.applied && s.event.messageId === e.messageId)).toBe(true);
  });
});

describe('DeliveryWorker with an injected clock', () => {
  it('dead-letters after the retry window, with the last error, and the lane goes on', async () => {
    const tmp = tempDir('worker-clock-');
    const clock = new FakeClock();
    const store = await openSqliteStore({ path: join(tmp.dir, 'q.db'), clock });
    await store.createDestination({ id: 'd', name: 'D', settings: SETTINGS });
    const [doomed, next] = [trackEvent('u1'), trackEvent('u1')];
    await store.append(batchOf('d', [doomed!, next!], { receivedAt: new Date(clock.now()) }));
    const settled: SettledEvent[] = [];
    const worker = new DeliveryWorker({
      store,
      clock,
      pollMs: 3_600_000,
      retryPolicy: new RetryPolicy({ windowMs: 4 * 3_600_000, minAttempts: 3, random: () => 0 }),
      deliver: async (_d, event) => (event.messageId === doomed!.messageId ? retry('HTTP 503: Service Unavailable') : delivered()),
    });
    worker.on('settled', (s) => settled.push(s));
    worker.start();
    try {
      // Attempts at 0 s, +1 h, +2 h are inside the window; the one at +4 h is not.
      for (const [i, at] of [
        [1, 0],
        [2, 3_600_000],
        [3, 3_600_000],
      ] as const) {
        clock.advance(at);
        worker.wake();
        await until(() => settled.length === i);
        expect(settled[i - 1]!.settlement.state).toBe('retrying');
      }
      // Nothing happens before the retry is due.
      const due = (await store.search({ messageId: doomed!.messageId })).events[0]!.nextAttemptAt!.getTime();
      expect(await store.claimLanes('probe', 1, 1)).toEqual([]);
      clock.t = Math.max(due, clock.now() + 2 * 3_600_000);
      worker.wake();
      await until(() => settled.length === 5);
      expect(settled[3]!.settlement).toEqual({
        state: 'failed',
        reason: expect.stringMatching(/^gave up after 4 attempts over 4(\.\d)? h: HTTP 503: Service Unavailable$/),
      });
      expect(settled[4]!.settlement.state).toBe('delivered');
      const dead = (await store.search({ status: 'failed' })).events;
      expect(dead.map((e) => e.messageId)).toEqual([doomed!.messageId]);
      expect(dead[0]!.lastError).toMatch(/HTTP 503/);

      // An operator retry gives it a fresh window: it is attempted again at once.
      await store.retryDeadLetters({ ids: [dead[0]!.id] });
      await until(() => settled.length === 6);
      expect(settled[5]!.event.messageId).toBe(doomed!.messageId);
      expect(settled[5]!.settlement.state).toBe('retrying');
    } finally {
      await worker.stop();
      await store.close();
      tmp.remove();
    }
  });
});
