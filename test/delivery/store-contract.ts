import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecordInput, EventStore, LaneRef, QueuedEvent, Settlement } from '../../src/delivery/store.ts';
import { FakeClock, SETTINGS, batchOf, trackEvent } from './helpers.ts';

/**
 * What every EventStore must do, whatever the database. One suite; each store runs it with its
 * own harness (SQLite on temp files here, PostgreSQL in issue "Distributed mode").
 */
export interface StoreHarness {
  /** Open (and migrate) a store on this harness's database; may be called again after close. */
  open(clock: FakeClock): Promise<EventStore>;
  /** Every byte the database keeps on disk (only called after the store is closed). */
  persistedBytes(): Promise<Buffer>;
  dispose(): Promise<void>;
}

export function storeContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`EventStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let clock: FakeClock;
    let store: EventStore;
    const DEST = 'dest-a';
    const OTHER = 'dest-b';

    beforeEach(async () => {
      harness = await makeHarness();
      clock = new FakeClock();
      store = await harness.open(clock);
      await store.createDestination({ id: DEST, name: 'A', settings: SETTINGS });
      await store.createDestination({ id: OTHER, name: 'B', settings: { ...SETTINGS, apiKey: 'other-key' } });
    });

    afterEach(async () => {
      await store.close();
      await harness.dispose();
    });

    const attempt = () => ({ startedAt: new Date(clock.now()), durationMs: 12, calls: [], warnings: [] });
    const settle = (event: QueuedEvent, settlement: Settlement, workerId = 'w1') =>
      store.settle({ event: { id: event.id, destinationId: event.destinationId, laneKey: event.laneKey }, workerId, settlement, attempt: attempt() });
    const lane = (laneKey: string, destinationId = DEST): LaneRef => ({ destinationId, laneKey });
    const received = (minutesAgo = 0) => new Date(clock.now() - minutesAgo * 60_000);

    describe('append', () => {
      it('stores a batch, counts duplicates per destination and stores them once', async () => {
        const e1 = trackEvent('u1');
        const e2 = trackEvent('u1');
        expect(await store.append(batchOf(DEST, [e1, e2], { receivedAt: received() }))).toEqual({ stored: 2, duplicates: 0 });
        // A resend of the batch plus one new event, and a duplicate inside the same batch.
        const e3 = trackEvent('u2');
        expect(await store.append(batchOf(DEST, [e1, e2, e3, e3], { receivedAt: received() }))).toEqual({ stored: 1, duplicates: 3 });
        // The same messageId for another destination is another event.
        expect(await store.append(batchOf(OTHER, [e1], { receivedAt: received() }))).toEqual({ stored: 1, duplicates: 0 });

        const page = await store.search({ destinationId: DEST, limit: 100 });
        expect(page.events.map((e) => e.messageId).sort()).toEqual([e1.messageId, e2.messageId, e3.messageId].sort());
        expect(await store.backlog()).toBe(4);
        const stored = page.events.find((e) => e.messageId === e1.messageId)!;
        expect(stored).toMatchObject({ status: 'pending', attempts: 0, laneKey: 'u1', type: 'track', eventName: 'Thing Happened' });
        expect(stored.payload).toEqual(e1);
      });

      it('keeps concurrent appends apart, all committed, ids increasing in arrival order', async () => {
        const batches = Array.from({ length: 20 }, (_, i) =>
          batchOf(DEST, Array.from({ length: 10 }, () => trackEvent(`user-${i % 4}`)), { receivedAt: received() }),
        );
        const results = await Promise.all(batches.map((b) => store.append(b)));
        expect(results.every((r) => r.stored === 10 && r.duplicates === 0)).toBe(true);
        for (let u = 0; u < 4; u++) {
          const events = (await store.search({ laneKey: `user-${u}`, limit: 500 })).events.reverse();
          const expected = batches.filter((_, i) => i % 4 === u).flatMap((b) => b.accepted.map((e) => e.messageId));
          expect(events.map((e) => e.messageId)).toEqual(expected);
        }
      });

      it('is durable: a closed and reopened store has every acknowledged event', async () => {
        const events = Array.from({ length: 50 }, (_, i) => trackEvent(`user-${i % 5}`));
        await store.append(batchOf(DEST, events, { receivedAt: received() }));
        await store.close();
        store = await harness.open(clock);
        const page = await store.search({ destinationId: DEST, limit: 500 });
        expect(page.events).toHaveLength(50);
        expect(await store.backlog()).toBe(50);
        expect((await store.head(lane('user-0')))?.messageId).toBe(events[0]!.messageId);
        // Dedupe survives the restart too.
        expect(await store.append(batchOf(DEST, events.slice(0, 3), { receivedAt: received() }))).toEqual({ stored: 0, duplicates: 3 });
      });

      it('records rejected events as rejected, outside lanes, backlog and dedupe', async () => {
        const bad = { type: 'track', messageId: 'm-bad', properties: { a: 1 } };
        const result = await store.append(
          batchOf(DEST, [trackEvent('u1')], {
            rejected: [
              { index: 1, messageId: 'm-bad', reason: 'neither userId nor anonymousId', payload: bad },
              { index: 2, messageId: null, reason: 'track without event', payload: { type: 'track', userId: 'u9' } },
            ],
            receivedAt: received(),
          }),
        );
        expect(result).toEqual({ stored: 1, duplicates: 0 });
        expect(await store.backlog()).toBe(1);
        const rejected = (await store.search({ status: 'rejected' })).events;
        expect(rejected).toHaveLength(2);
        expect(rejected.find((e) => e.messageId === 'm-bad')).toMatchObject({
          status: 'rejected',
          lastError: 'neither userId nor anonymousId',
          payload: bad,
          outcome: { state: 'rejected', reason: 'neither userId nor anonymousId' },
        });
        expect(rejected.find((e) => e.messageId === null)).toMatchObject({ laneKey: 'u9', type: 'track' });
        expect(await store.head(lane('u9'))).toBeNull();
        // A corrected resend with the same messageId is accepted, and both show in a messageId search.
        expect(await store.append(batchOf(DEST, [trackEvent('u2', { messageId: 'm-bad' })], { receivedAt: received() }))).toEqual({
          stored: 1,
          duplicates: 0,
        });
        const byMessage = (await store.search({ messageId: 'm-bad' })).events;
        expect(byMessage.map((e) => e.status)).toEqual(['pending', 'rejected']);
      });

      it('tells subscribers when work arrives, after the commit', async () => {
        let calls = 0;
        const stop = store.onWorkAvailable(() => calls++);
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        expect(calls).toBeGreaterThanOrEqual(1);
        stop();
        const before = calls;
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        expect(calls).toBe(before);
      });
    });

    describe('lanes', () => {
      it('claims due lanes once, and a dead worker’s lease runs out', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u2'), trackEvent('u1')], { receivedAt: received() }));
        const claimed = await store.claimLanes('w1', 10, 30_000);
        expect(claimed.map((l) => l.laneKey).sort()).toEqual(['u1', 'u2']);
        expect(claimed.find((l) => l.laneKey === 'u1')?.pending).toBe(2);
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        clock.advance(29_999);
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        // w1 "died": no renewal, no release. Its lanes come back when the lease ends.
        clock.advance(2);
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey).sort()).toEqual(['u1', 'u2']);
        // w1 cannot renew what w2 holds now.
        expect(await store.renewLeases('w1', [lane('u1')], 30_000)).toEqual([]);
        expect(await store.renewLeases('w2', [lane('u1'), lane('u2')], 30_000)).toHaveLength(2);
      });

      it('honours the claim limit, oldest-due first', async () => {
        for (let i = 0; i < 5; i++) {
          await store.append(batchOf(DEST, [trackEvent(`u${i}`)], { receivedAt: received() }));
          clock.advance(10);
        }
        expect((await store.claimLanes('w1', 2, 1000)).map((l) => l.laneKey)).toEqual(['u0', 'u1']);
        expect((await store.claimLanes('w1', 10, 1000)).map((l) => l.laneKey)).toEqual(['u2', 'u3', 'u4']);
      });

      it('hands out a lane’s events in id order, one head at a time', async () => {
        const events = [trackEvent('u1'), trackEvent('u2'), trackEvent('u1'), trackEvent('u1')];
        await store.append(batchOf(DEST, events.slice(0, 2), { receivedAt: received() }));
        await store.append(batchOf(DEST, events.slice(2), { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const seen: string[] = [];
        for (let head = await store.head(lane('u1')); head; head = await store.head(lane('u1'))) {
          seen.push(head.messageId);
          expect(head.payload.messageId).toBe(head.messageId);
          expect((await settle(head, { state: 'delivered' })).applied).toBe(true);
        }
        expect(seen).toEqual([events[0]!.messageId, events[2]!.messageId, events[3]!.messageId]);
        expect(await store.backlog()).toBe(1);
      });

      it('a retrying head holds its lane until its time, and only its lane', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u1'), trackEvent('u2')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const head = (await store.head(lane('u1')))!;
        await settle(head, { state: 'retrying', reason: 'HTTP 503', nextAttemptAt: new Date(clock.now() + 5000) });
        await store.releaseLane('w1', lane('u2'));
        // u2 is due again at once; u1 waits for its retry time even though nobody holds it.
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u2']);
        clock.advance(5000);
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
        const again = (await store.head(lane('u1')))!;
        expect(again.id).toBe(head.id);
        expect(again).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'HTTP 503' });
        expect(again.firstAttemptAt?.getTime()).toBe(clock.now() - 5000);
        expect(again.nextAttemptAt?.getTime()).toBe(clock.now());
      });

      it('wakes the lanes of one destination that wait out a retry, and no other lane', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u1'), trackEvent('u2'), trackEvent('u3')], { receivedAt: received() }));
        await store.append(batchOf(OTHER, [trackEvent('v1')], { receivedAt: received() }));
        expect(await store.claimLanes('w1', 10, 30_000)).toHaveLength(4);
        const later = new Date(clock.now() + 60_000);
        for (const waiting of [lane('u1'), lane('u2'), lane('v1', OTHER)]) {
          await settle((await store.head(waiting))!, { state: 'retrying', reason: 'Sailthru unreachable', nextAttemptAt: later });
        }
        // u3 stays leased by w1: a lane someone is working on is not "waiting".
        let woken = 0;
        store.onWorkAvailable(() => woken++);
        expect(await store.wakeRetryingLanes(DEST)).toBe(2);
        expect(woken).toBeGreaterThan(0);
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey).sort()).toEqual(['u1', 'u2']);
        const head = (await store.head(lane('u1')))!;
        expect(head).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'Sailthru unreachable' });
        expect(head.nextAttemptAt?.getTime()).toBe(clock.now());
        // The other destination's lane still waits for its own time.
        expect((await store.head(lane('v1', OTHER)))!.nextAttemptAt?.getTime()).toBe(later.getTime());
        // Now leased by w2, they are not waiting any more.
        expect(await store.wakeRetryingLanes(DEST)).toBe(0);
      });

      it('a released lane with events is due again; an empty one is not', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u2')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const head = (await store.head(lane('u2')))!;
        await settle(head, { state: 'delivered' });
        await store.releaseLane('w1', lane('u1'));
        await store.releaseLane('w1', lane('u2'));
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
        // An event for an idle, empty lane makes it due again.
        await store.append(batchOf(DEST, [trackEvent('u2')], { receivedAt: received() }));
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u2']);
      });

      it('counts a lane’s unsettled events received before an id, leased ones too, dead letters not', async () => {
        const a1 = trackEvent('A', { userId: undefined, anonymousId: 'A' });
        const a2 = trackEvent('A', { userId: undefined, anonymousId: 'A' });
        await store.append(batchOf(DEST, [a1, a2, trackEvent('B')], { receivedAt: received() }));
        await store.append(batchOf(OTHER, [trackEvent('A')], { receivedAt: received() }));
        const u = trackEvent('U', { anonymousId: 'A' });
        await store.append(batchOf(DEST, [u, trackEvent('A', { userId: undefined, anonymousId: 'A' })], { receivedAt: received() }));
        const [first, second] = (await store.search({ destinationId: DEST, laneKey: 'A', limit: 10 })).events.reverse();
        const uId = (await store.head(lane('U')))!.id;
        // Only events of that destination's lane, received before uId; lanes with none left out.
        const both = await store.earlierUnsettled(DEST, ['A', 'B', 'nobody'], uId);
        expect(both.sort((x, y) => x.laneKey.localeCompare(y.laneKey))).toEqual([
          { laneKey: 'A', count: 2, oldestId: first!.id },
          { laneKey: 'B', count: 1, oldestId: expect.any(Number) },
        ]);
        // Leased (in flight) still counts; settled, and dead-lettered, no more.
        await store.claimLanes('w1', 10, 30_000);
        expect((await store.earlierUnsettled(DEST, ['A'], uId))[0]?.count).toBe(2);
        await settle((await store.head(lane('A')))!, { state: 'delivered' });
        expect(await store.earlierUnsettled(DEST, ['A'], uId)).toEqual([{ laneKey: 'A', count: 1, oldestId: second!.id }]);
        await settle((await store.head(lane('A')))!, { state: 'failed', reason: 'dead' });
        expect(await store.earlierUnsettled(DEST, ['A'], uId)).toEqual([]);
        expect(await store.earlierUnsettled(DEST, [], uId)).toEqual([]);
      });

      it('a deferred lane is due again at its time, not before; only its holder can defer it', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u2')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        await store.deferLane('w2', lane('u1'), clock.now() + 500);
        await store.deferLane('w1', lane('u1'), clock.now() + 500);
        await store.releaseLane('w1', lane('u2'));
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u2']);
        clock.advance(499);
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        clock.advance(1);
        const [again] = await store.claimLanes('w2', 10, 30_000);
        expect(again).toMatchObject({ laneKey: 'u1', pending: 1 });
        // Nothing was settled: the head is the same event, never attempted.
        expect((await store.head(lane('u1')))!.attempts).toBe(0);
      });

      it('an event appended to a leased lane neither breaks the lease nor gets lost', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        await settle((await store.head(lane('u1')))!, { state: 'delivered' });
        const late = trackEvent('u1');
        await store.append(batchOf(DEST, [late], { receivedAt: received() }));
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        await store.releaseLane('w1', lane('u1'));
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
        expect((await store.head(lane('u1')))?.messageId).toBe(late.messageId);
      });

      it('a late settle of an already settled event changes nothing', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u1')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const head = (await store.head(lane('u1')))!;
        expect((await settle(head, { state: 'delivered' })).applied).toBe(true);
        expect((await settle(head, { state: 'failed', reason: 'late' }, 'w0')).applied).toBe(false);
        const detail = (await store.getEvent(head.id))!;
        expect(detail.event.status).toBe('delivered');
        expect(await store.backlog()).toBe(1);
      });
    });

    describe('runs: a window of heads per claim, settled together', () => {
      const head = (event: QueuedEvent, settlement: Settlement = { state: 'delivered' }) => ({
        event: { id: event.id, destinationId: event.destinationId, laneKey: event.laneKey },
        settlement,
        attempt: attempt(),
      });

      it('a claim brings each lane’s head events in id order, up to the window', async () => {
        const events = [trackEvent('u1'), trackEvent('u2'), trackEvent('u1'), trackEvent('u1'), trackEvent('u1')];
        await store.append(batchOf(DEST, events, { receivedAt: received() }));
        const claimed = await store.claimLanes('w1', 10, 30_000, 3);
        const byLane = new Map(claimed.map((l) => [l.laneKey, l.events.map((e) => e.messageId)]));
        expect(byLane.get('u1')).toEqual([events[0], events[2], events[3]].map((e) => e!.messageId));
        expect(byLane.get('u2')).toEqual([events[1]!.messageId]);
        expect(claimed.find((l) => l.laneKey === 'u1')!.events[0]).toMatchObject({ status: 'pending', attempts: 0, payload: events[0] });
        // Without a window, the head alone.
        await store.releaseLane('w1', lane('u1'));
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.events.length)).toEqual([1]);
      });

      it('settles a run in order, brings the next window, and gives the lane back once it is empty', async () => {
        const events = Array.from({ length: 5 }, () => trackEvent('u1'));
        await store.append(batchOf(DEST, events, { receivedAt: received() }));
        const [claim] = await store.claimLanes('w1', 10, 30_000, 2);
        const first = await store.settleLane({ lane: lane('u1'), workerId: 'w1', heads: claim!.events.map((e) => head(e)), then: 'continue', window: 2 });
        expect(first).toEqual({ applied: [true, true], next: [expect.objectContaining({ messageId: events[2]!.messageId }), expect.objectContaining({ messageId: events[3]!.messageId })], released: false });
        expect(await store.backlog()).toBe(3);
        // Still ours: nobody else can claim it.
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        const second = await store.settleLane({ lane: lane('u1'), workerId: 'w1', heads: first.next.map((e) => head(e)), then: 'continue', window: 2 });
        expect(second.next.map((e) => e.messageId)).toEqual([events[4]!.messageId]);
        const last = await store.settleLane({ lane: lane('u1'), workerId: 'w1', heads: second.next.map((e) => head(e, { state: 'skipped', reason: 's' })), then: 'continue', window: 2 });
        expect(last).toEqual({ applied: [true], next: [], released: true });
        expect(await store.backlog()).toBe(0);
        expect((await store.getEvent(second.next[0]!.id))!.event).toMatchObject({ status: 'skipped' });
        // Given back and empty: not due; a new event makes it due again.
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
      });

      it('a run ending in a retry hands the lane back until the retry time; a late run changes nothing', async () => {
        const events = [trackEvent('u1'), trackEvent('u1'), trackEvent('u1')];
        await store.append(batchOf(DEST, events, { receivedAt: received() }));
        const [claim] = await store.claimLanes('w1', 10, 30_000, 3);
        const [a, b] = claim!.events;
        const retryAt = new Date(clock.now() + 5000);
        const result = await store.settleLane({
          lane: lane('u1'),
          workerId: 'w1',
          heads: [head(a!), head(b!, { state: 'retrying', reason: 'HTTP 503', nextAttemptAt: retryAt })],
          then: 'continue',
          window: 3,
        });
        expect(result).toEqual({ applied: [true, true], next: [], released: true });
        expect(await store.backlog()).toBe(2);
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        clock.advance(5000);
        const [again] = await store.claimLanes('w2', 10, 30_000, 3);
        expect(again!.events.map((e) => e.id)).toEqual([b!.id, claim!.events[2]!.id]);
        expect(again!.events[0]).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'HTTP 503' });
        // w1's late settle of the first event again: not applied, and w2's lease stands.
        const late = await store.settleLane({ lane: lane('u1'), workerId: 'w1', heads: [head(a!, { state: 'failed', reason: 'late' })], then: 'release' });
        expect(late.applied).toEqual([false]);
        expect(late.released).toBe(true);
        expect((await store.getEvent(a!.id))!.event.status).toBe('delivered');
        expect(await store.renewLeases('w2', [lane('u1')], 30_000)).toHaveLength(1);
        expect(await store.backlog()).toBe(2);
      });

      it('a release with events left makes the lane due again at once', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u1')], { receivedAt: received() }));
        const [claim] = await store.claimLanes('w1', 10, 30_000, 1);
        let woken = 0;
        store.onWorkAvailable(() => woken++);
        const result = await store.settleLane({ lane: lane('u1'), workerId: 'w1', heads: [head(claim!.events[0]!)], then: 'release' });
        expect(result).toEqual({ applied: [true], next: [], released: true });
        expect(woken).toBeGreaterThan(0);
        const [next] = await store.claimLanes('w2', 10, 30_000, 5);
        expect(next!.events).toHaveLength(1);
        expect(next!.pending).toBe(1);
      });
    });

    describe('settling', () => {
      it('records every attempt with its calls, and the final outcome', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const head = (await store.head(lane('u1')))!;
        const call = { method: 'POST' as const, endpoint: '/event', payload: { id: 'u1' }, status: 503, durationMs: 4 };
        await store.settle({
          event: head,
          workerId: 'w1',
          settlement: { state: 'retrying', reason: 'HTTP 503', nextAttemptAt: new Date(clock.now() + 1000) },
          attempt: { startedAt: new Date(clock.now()), durationMs: 5, calls: [call], warnings: ['w'] },
        });
        clock.advance(1000);
        await store.claimLanes('w1', 10, 30_000);
        await store.settle({
          event: head,
          workerId: 'w1',
          settlement: { state: 'delivered' },
          attempt: { startedAt: new Date(clock.now()), durationMs: 7, calls: [{ ...call, status: 200 }], warnings: [] },
        });
        const detail = (await store.getEvent(head.id))!;
        expect(detail.event).toMatchObject({ status: 'delivered', attempts: 2 });
        expect(detail.event.settledAt?.getTime()).toBe(clock.now());
        expect(detail.event.firstAttemptAt?.getTime()).toBe(clock.now() - 1000);
        expect(detail.event.outcome).toEqual({ state: 'delivered', calls: [{ ...call, status: 200 }], warnings: [] });
        expect(detail.attempts).toEqual([
          expect.objectContaining({ attempt: 1, state: 'retry', error: 'HTTP 503', calls: [call], warnings: ['w'], workerId: 'w1', durationMs: 5 }),
          expect.objectContaining({ attempt: 2, state: 'delivered', error: null, durationMs: 7 }),
        ]);
        expect(await store.getEvent(999_999)).toBeNull();
      });

      it('a dead letter leaves the lane, which goes on with the next event', async () => {
        const events = [trackEvent('u1'), trackEvent('u1')];
        await store.append(batchOf(DEST, events, { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        await settle((await store.head(lane('u1')))!, { state: 'failed', reason: 'Invalid email' });
        expect((await store.head(lane('u1')))?.messageId).toBe(events[1]!.messageId);
        const dead = (await store.search({ status: 'failed' })).events;
        expect(dead).toHaveLength(1);
        expect(dead[0]).toMatchObject({ messageId: events[0]!.messageId, lastError: 'Invalid email' });
        expect(await store.backlog()).toBe(1);
      });

      it('skipped is final with its reason', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const head = (await store.head(lane('u1')))!;
        await settle(head, { state: 'skipped', reason: 'screen events are not sent' });
        expect((await store.getEvent(head.id))!.event).toMatchObject({
          status: 'skipped',
          outcome: { state: 'skipped', reason: 'screen events are not sent' },
        });
        expect(await store.head(lane('u1'))).toBeNull();
      });
    });

    describe('cart markers (src/destination/cart-markers.ts)', () => {
      it('finds a marker naming an event still pending in the same lane after the given one, and nothing else', async () => {
        const [e0, e1, e2, e3] = [trackEvent('u1'), trackEvent('u1'), trackEvent('u1'), trackEvent('u1')];
        const other = trackEvent('u2');
        await store.append(batchOf(DEST, [e0!, e1!, other, e2!, e3!], { receivedAt: received() }));
        await store.append(batchOf(OTHER, [e1!, e3!], { receivedAt: received() }));
        const after = (markers: string[], messageId: string, destinationId = DEST) => store.pendingAfterInLane(destinationId, markers, messageId);
        expect(await after([e3!.messageId], e1!.messageId)).toBe(e3!.messageId);
        expect(await after(['no-such-event', e2!.messageId], e1!.messageId)).toBe(e2!.messageId);
        // Earlier, the same event, another lane, unknown, an unknown reference event: none.
        expect(await after([e0!.messageId, e1!.messageId, other.messageId, 'no-such-event'], e1!.messageId)).toBeNull();
        expect(await after([e3!.messageId], 'no-such-event')).toBeNull();
        expect(await after([], e1!.messageId)).toBeNull();
        // Another destination's events are its own: OTHER holds e1 and e3 in lane u1 too.
        expect(await after([e3!.messageId], e1!.messageId, OTHER)).toBe(e3!.messageId);
        expect(await after([e2!.messageId], e1!.messageId, OTHER)).toBeNull();
        // A settled event is no longer queued, later or not.
        await store.claimLanes('w1', 10, 30_000);
        await settle((await store.head(lane('u1')))!, { state: 'delivered' });
        await settle((await store.head(lane('u1')))!, { state: 'delivered' });
        expect(await after([e1!.messageId], e0!.messageId)).toBeNull();
        expect(await after([e3!.messageId], e0!.messageId)).toBe(e3!.messageId);
      });
    });

    describe('pause and resume', () => {
      it('a paused outcome pauses the destination, keeps its events and spares the others', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u2')], { receivedAt: received() }));
        await store.append(batchOf(OTHER, [trackEvent('u1')], { receivedAt: received() }));
        await store.claimLanes('w1', 1, 30_000);
        const head = (await store.head(lane('u1')))!;
        await settle(head, { state: 'paused', reason: 'Invalid API key (error 3)' });
        expect(await store.getDestination(DEST)).toMatchObject({ paused: true, pauseReason: 'Invalid API key (error 3)' });
        expect((await store.getEvent(head.id))!.event).toMatchObject({ status: 'pending', lastError: 'Invalid API key (error 3)' });
        const claimed = await store.claimLanes('w2', 10, 30_000);
        expect(claimed.map((l) => l.destinationId)).toEqual([OTHER]);
        expect(await store.backlog()).toBe(3);

        await store.resumeDestination(DEST);
        expect(await store.getDestination(DEST)).toMatchObject({ paused: false, pauseReason: null });
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey).sort()).toEqual(['u1', 'u2']);
        expect((await store.head(lane('u1')))?.id).toBe(head.id);
      });

      it('a pause decided on settings changed since then does not stick', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const head = (await store.head(lane('u1')))!;
        const used = (await store.getDestination(DEST))!.version;
        await store.updateDestination(DEST, { settings: { ...SETTINGS, sharedSecret: 'fixed' } });
        await settle(head, { state: 'paused', reason: 'bad secret', settingsVersion: used });
        expect((await store.getDestination(DEST))!.paused).toBe(false);
        // The lane is back, due at once, to try with the new settings.
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
        await settle(head, { state: 'paused', reason: 'still bad', settingsVersion: used + 1 }, 'w2');
        expect(await store.getDestination(DEST)).toMatchObject({ paused: true, pauseReason: 'still bad' });
      });

      it('new settings resume a paused destination and bump its version', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        await store.pauseDestination(DEST, 'bad secret');
        expect(await store.claimLanes('w1', 10, 30_000)).toEqual([]);
        const before = (await store.getDestination(DEST))!;
        let woken = 0;
        store.onWorkAvailable(() => woken++);
        const after = (await store.updateDestination(DEST, { settings: { ...SETTINGS, sharedSecret: 'fixed' } }))!;
        expect(after).toMatchObject({ paused: false, version: before.version + 1 });
        expect(after.settings.sharedSecret).toBe('fixed');
        expect(woken).toBeGreaterThan(0);
        expect(await store.claimLanes('w1', 10, 30_000)).toHaveLength(1);
        // A rename alone is not a settings change.
        expect((await store.updateDestination(DEST, { name: 'Renamed' }))).toMatchObject({ name: 'Renamed', version: after.version });
        expect(await store.updateDestination('nope', { name: 'x' })).toBeNull();
      });
    });

    describe('dead letters', () => {
      async function deadLetters(users: string[]): Promise<QueuedEvent[]> {
        await store.append(batchOf(DEST, users.map((u) => trackEvent(u)), { receivedAt: received() }));
        await store.claimLanes('w1', 100, 30_000);
        const dead: QueuedEvent[] = [];
        for (const u of new Set(users)) {
          for (let head = await store.head(lane(u)); head; head = await store.head(lane(u))) {
            await settle(head, { state: 'failed', reason: `bad ${u}` });
            dead.push(head);
          }
          await store.releaseLane('w1', lane(u));
        }
        return dead;
      }

      it('retrying one puts it back at the head of its lane with a fresh window', async () => {
        const [first] = await deadLetters(['u1', 'u2']);
        expect(await store.claimLanes('w2', 10, 30_000)).toEqual([]);
        let woken = 0;
        store.onWorkAvailable(() => woken++);
        expect(await store.retryDeadLetters({ ids: [first!.id] })).toBe(1);
        expect(woken).toBeGreaterThan(0);
        expect(await store.retryDeadLetters({ ids: [first!.id] })).toBe(0);
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
        const head = (await store.head(lane('u1')))!;
        expect(head).toMatchObject({ id: first!.id, status: 'pending', firstAttemptAt: null, settledAt: null });
        expect(await store.backlog()).toBe(1);
      });

      it('retries or drops all dead letters matching a filter', async () => {
        await deadLetters(['u1', 'u1', 'u2', 'u3']);
        expect(await store.retryDeadLetters({ filter: { laneKey: 'u1' } })).toBe(2);
        expect((await store.search({ status: 'failed' })).events.map((e) => e.laneKey).sort()).toEqual(['u2', 'u3']);
        expect(await store.dropDeadLetters({ filter: { destinationId: DEST } }, 'alice')).toBe(2);
        expect((await store.search({ status: 'failed' })).events).toEqual([]);
        expect((await store.search({ status: 'dropped' })).events.map((e) => e.laneKey).sort()).toEqual(['u2', 'u3']);
        // Dropping never touches events that are not dead letters.
        const pending = (await store.search({ laneKey: 'u1' })).events;
        expect(pending.map((e) => e.status)).toEqual(['pending', 'pending']);
        expect(await store.dropDeadLetters({ ids: pending.map((e) => e.id) }, 'alice')).toBe(0);
        expect(await store.getEvent(pending[0]!.id)).not.toBeNull();
      });

      it('a dropped dead letter stays in the log, final, with who and when, until retention prunes it', async () => {
        const [dead] = await deadLetters(['u1']);
        clock.advance(5_000);
        expect(await store.dropDeadLetters({ ids: [dead!.id] }, 'alice')).toBe(1);
        const detail = (await store.getEvent(dead!.id))!;
        expect(detail.event).toMatchObject({ status: 'dropped', droppedBy: 'alice', droppedAt: new Date(clock.now()), lastError: 'bad u1' });
        expect(detail.attempts).toHaveLength(1);
        // Final: neither dropped again nor retried, nor counted as a dead letter.
        expect(await store.dropDeadLetters({ ids: [dead!.id] }, 'bob')).toBe(0);
        expect(await store.retryDeadLetters({ ids: [dead!.id] })).toBe(0);
        expect((await store.getEvent(dead!.id))!.event.droppedBy).toBe('alice');
        expect((await store.backlogByDestination()).find((b) => b.destinationId === DEST)).toMatchObject({ failed: 0, unsettled: 0 });
        // Retention takes it with the other final events.
        clock.advance(8 * 86_400_000);
        expect(await store.prune({ olderThan: received(60 * 24 * 7) })).toBe(1);
        expect(await store.getEvent(dead!.id)).toBeNull();
      });
    });

    describe('delivery log', () => {
      it('searches by lane key, messageId, event name, type, state and time, newest first, paged', async () => {
        const a = trackEvent('alice', { event: 'Order Completed' });
        clock.advance(60_000);
        const b = trackEvent('bob', { event: 'Product Added' });
        const c = { ...trackEvent('alice'), type: 'page' as const, event: undefined, name: 'Home' };
        await store.append(batchOf(DEST, [a], { receivedAt: received(10) }));
        await store.append(batchOf(DEST, [b, c], { receivedAt: received(5) }));
        await store.append(batchOf(OTHER, [trackEvent('alice')], { receivedAt: received(1) }));

        const ids = (q: Parameters<EventStore['search']>[0]) => store.search(q).then((p) => p.events.map((e) => e.messageId));
        expect(await ids({ laneKey: 'alice', destinationId: DEST })).toEqual([c.messageId, a.messageId]);
        expect(await ids({ messageId: b.messageId })).toEqual([b.messageId]);
        expect(await ids({ eventName: 'Order Completed' })).toEqual([a.messageId]);
        expect(await ids({ eventName: 'Home' })).toEqual([c.messageId]);
        expect(await ids({ type: 'page' })).toEqual([c.messageId]);
        expect(await ids({ destinationId: DEST, receivedFrom: received(7) })).toEqual([c.messageId, b.messageId]);
        expect(await ids({ destinationId: DEST, receivedTo: received(7) })).toEqual([a.messageId]);
        expect(await ids({ status: ['delivered', 'failed'] })).toEqual([]);
        expect(await ids({ status: [] })).toEqual([]);

        const first = await store.search({ destinationId: DEST, limit: 2 });
        expect(first.events.map((e) => e.messageId)).toEqual([c.messageId, b.messageId]);
        expect(first.nextBeforeId).not.toBeNull();
        const second = await store.search({ destinationId: DEST, limit: 2, beforeId: first.nextBeforeId! });
        expect(second.events.map((e) => e.messageId)).toEqual([a.messageId]);
        expect(second.nextBeforeId).toBeNull();
      });

      it('finds exactly the events of a time range in a long log, arrival a little out of order', async () => {
        const base = clock.now() - 10 * 3_600_000;
        const sent: Array<{ messageId: string; at: number }> = [];
        for (let i = 0; i < 120; i++) {
          // Batches 10 s apart, each up to 20 s early or late: neighbours arrive out of order.
          const at = base + i * 10_000 + ((i * 7919) % 97) * 400 - 20_000;
          const events = [trackEvent(`u${i % 7}`), trackEvent(`u${(i + 3) % 7}`)];
          await store.append(batchOf(DEST, events, { receivedAt: new Date(at) }));
          for (const e of events) sent.push({ messageId: e.messageId, at });
        }
        const ranges: Array<[number | undefined, number | undefined]> = [
          ...Array.from({ length: 20 }, (_, k): [number, number] => [base + k * 57_000 + 3_000, base + k * 57_000 + 3_000 + ((k % 5) + 1) * 13_000]),
          [undefined, base + 100_000],
          [base + 1_000_000, undefined],
          [base - 3_600_000, base - 60_000],
          [base + 5_000_000, undefined],
        ];
        for (const [from, to] of ranges) {
          const expected = sent
            .filter((e) => (from === undefined || e.at >= from) && (to === undefined || e.at < to))
            .map((e) => e.messageId)
            .sort();
          const query = {
            destinationId: DEST,
            limit: 500,
            ...(from !== undefined ? { receivedFrom: new Date(from) } : {}),
            ...(to !== undefined ? { receivedTo: new Date(to) } : {}),
          };
          const found = (await store.search(query)).events.map((e) => e.messageId).sort();
          expect(found, `range ${from} – ${to}`).toEqual(expected);
        }
      });

      it('reports backlog, retrying, dead letters and the oldest unsettled age per destination', async () => {
        await store.append(batchOf(DEST, [trackEvent('u1'), trackEvent('u2'), trackEvent('u3')], { receivedAt: received(30) }));
        await store.append(batchOf(DEST, [trackEvent('u4')], { receivedAt: received(1) }));
        await store.claimLanes('w1', 10, 30_000);
        await settle((await store.head(lane('u1')))!, { state: 'failed', reason: 'x' });
        await settle((await store.head(lane('u2')))!, { state: 'retrying', reason: 'y', nextAttemptAt: new Date(clock.now() + 1000) });
        const backlog = await store.backlogByDestination();
        expect(backlog.find((b) => b.destinationId === DEST)).toEqual({
          destinationId: DEST,
          unsettled: 3,
          retrying: 1,
          failed: 1,
          oldestUnsettledAgeMs: 30 * 60_000,
        });
        expect(backlog.find((b) => b.destinationId === OTHER)).toEqual({
          destinationId: OTHER,
          unsettled: 0,
          retrying: 0,
          failed: 0,
          oldestUnsettledAgeMs: null,
        });
      });

      it('prunes old final events and their attempts in batches, keeping dead letters and the queue', async () => {
        const old = [trackEvent('u1'), trackEvent('u2'), trackEvent('u3'), trackEvent('u4')];
        await store.append(
          batchOf(DEST, old, {
            receivedAt: received(60 * 24 * 8),
            rejected: [{ index: 9, messageId: 'r1', reason: 'bad', payload: {} }],
          }),
        );
        const fresh = trackEvent('u1');
        await store.append(batchOf(DEST, [fresh], { receivedAt: received(1) }));
        await store.claimLanes('w1', 10, 30_000);
        const delivered = (await store.head(lane('u1')))!;
        await settle(delivered, { state: 'delivered' });
        await settle((await store.head(lane('u2')))!, { state: 'skipped', reason: 's' });
        const dead = (await store.head(lane('u3')))!;
        await settle(dead, { state: 'failed', reason: 'f' });
        await settle((await store.head(lane('u1')))!, { state: 'delivered' }); // fresh
        for (const u of ['u1', 'u2', 'u3', 'u4']) await store.releaseLane('w1', lane(u));

        const removed = await store.prune({ olderThan: received(60 * 24 * 7), batchSize: 2 });
        expect(removed).toBe(3); // delivered, skipped, rejected
        expect(await store.getEvent(delivered.id)).toBeNull();
        const left = (await store.search({ limit: 100 })).events;
        expect(left.map((e) => e.status).sort()).toEqual(['delivered', 'failed', 'pending']);
        expect(left.find((e) => e.status === 'delivered')?.messageId).toBe(fresh.messageId);
        expect((await store.getEvent(dead.id))?.attempts).toHaveLength(1);
        // The queue still works after the prune (u4's lane was kept, u1's idle one dropped and recreated).
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u4']);
        await store.append(batchOf(DEST, [trackEvent('u1')], { receivedAt: received() }));
        expect((await store.claimLanes('w2', 10, 30_000)).map((l) => l.laneKey)).toEqual(['u1']);
      });
    });

    describe('audit log', () => {
      const entry = (action: string, extra: Partial<AuditRecordInput> = {}): AuditRecordInput => ({
        action,
        actor: 'alice',
        channel: 'console',
        source: '203.0.113.7',
        target: null,
        filter: null,
        count: null,
        detail: null,
        ...extra,
      });

      it('records operator actions with the store clock, newest first, paged and filtered by action', async () => {
        const first = await store.recordAudit(entry('dead-letters.drop', { filter: { destination: DEST, userId: 'u1' }, count: 10 }));
        expect(first).toMatchObject({ action: 'dead-letters.drop', actor: 'alice', filter: { destination: DEST, userId: 'u1' }, count: 10, at: new Date(clock.now()) });
        clock.advance(1000);
        await store.recordAudit(entry('sign-in.failed', { actor: null, channel: 'api' }));
        clock.advance(1000);
        await store.recordAudit(entry('write-key.revoke', { target: 'key-1', detail: 'label "web"' }));

        const all = await store.listAudit({ limit: 2 });
        expect(all.records.map((r) => r.action)).toEqual(['write-key.revoke', 'sign-in.failed']);
        expect(all.records[1]).toMatchObject({ actor: null, channel: 'api', filter: null, count: null });
        const rest = await store.listAudit({ limit: 2, beforeId: all.nextBeforeId! });
        expect(rest.records.map((r) => r.id)).toEqual([first.id]);
        expect(rest.nextBeforeId).toBeNull();
        expect((await store.listAudit({ action: 'sign-in.failed' })).records.map((r) => r.channel)).toEqual(['api']);
        expect((await store.listAudit({ action: 'no-such-action' })).records).toEqual([]);
      });

      it('keeps records across a restart, and retention prunes the old ones', async () => {
        await store.recordAudit(entry('destination.pause', { target: DEST }));
        clock.advance(3 * 86_400_000);
        await store.recordAudit(entry('destination.resume', { target: DEST }));
        await store.close();
        store = await harness.open(clock);
        expect((await store.listAudit({})).records.map((r) => r.action)).toEqual(['destination.resume', 'destination.pause']);
        expect(await store.pruneAudit(new Date(clock.now() - 86_400_000))).toBe(1);
        expect((await store.listAudit({})).records.map((r) => r.action)).toEqual(['destination.resume']);
      });
    });

    describe('destinations', () => {
      it('creates, lists, reads and deletes destinations with their queue and keys', async () => {
        clock.advance(1); // listed in creation order
        const created = await store.createDestination({ name: 'Generated', settings: SETTINGS });
        expect(created.id).toMatch(/[0-9a-f-]{36}/);
        expect(created).toMatchObject({ name: 'Generated', paused: false, pauseReason: null, version: 1, settings: SETTINGS });
        expect((await store.listDestinations()).map((d) => d.id)).toEqual([DEST, OTHER, created.id]);
        await expect(store.createDestination({ id: DEST, name: 'dup', settings: SETTINGS })).rejects.toThrow();

        const { key } = await store.createWriteKey(created.id, 'k');
        await store.append(batchOf(created.id, [trackEvent('u1'), trackEvent('u2')], { receivedAt: received() }));
        expect(await store.deleteDestination(created.id)).toBe(true);
        expect(await store.getDestination(created.id)).toBeNull();
        expect(await store.destinationFor(key)).toBeNull();
        expect((await store.search({ destinationId: created.id })).events).toEqual([]);
        expect(await store.claimLanes('w1', 10, 30_000)).toEqual([]);
        expect(await store.deleteDestination(created.id)).toBe(false);
      });
    });

    describe('write keys', () => {
      it('resolves created and imported keys by hash, lists them without keys, revokes them', async () => {
        const created = await store.createWriteKey(DEST, 'website');
        expect(created.key.length).toBeGreaterThanOrEqual(40);
        expect(await store.destinationFor(created.key)).toBe(DEST);
        expect(await store.destinationFor(`${created.key}x`)).toBeNull();
        expect(await store.destinationFor('')).toBeNull();

        const imported = await store.importWriteKey(OTHER, 'env-key-123', 'WRITE_KEYS');
        expect(await store.importWriteKey(OTHER, 'env-key-123', 'again')).toEqual(imported);
        expect(await store.destinationFor('env-key-123')).toBe(OTHER);
        await expect(store.createWriteKey('missing', 'x')).rejects.toThrow(/no destination/);

        const listed = await store.listWriteKeys();
        expect(listed).toHaveLength(2);
        expect(JSON.stringify(listed)).not.toContain(created.key);
        expect(JSON.stringify(listed)).not.toContain('env-key-123');
        expect(await store.listWriteKeys(DEST)).toEqual([created.record]);

        expect(await store.revokeWriteKey(created.record.id)).toBe(true);
        expect(await store.revokeWriteKey(created.record.id)).toBe(false);
        expect(await store.destinationFor(created.key)).toBeNull();
        expect((await store.listWriteKeys(DEST))[0]?.revokedAt).toBeInstanceOf(Date);
        // A revoked key stays revoked when the environment imports it again.
        await store.importWriteKey(OTHER, 'env-key-123', 'x');
        await store.revokeWriteKey(imported.id);
        await store.importWriteKey(OTHER, 'env-key-123', 'x');
        expect(await store.destinationFor('env-key-123')).toBeNull();
      });

      it('never writes a plain key to disk', async () => {
        const { key } = await store.createWriteKey(DEST, 'website');
        await store.importWriteKey(DEST, 'imported-plain-key-4242', 'env');
        await store.close();
        const bytes = await harness.persistedBytes();
        expect(bytes.length).toBeGreaterThan(0);
        expect(bytes.includes(Buffer.from(key))).toBe(false);
        expect(bytes.includes(Buffer.from('imported-plain-key-4242'))).toBe(false);
        // The check itself does see what is stored: the key's label is there.
        expect(bytes.includes(Buffer.from('website'))).toBe(true);
        store = await harness.open(clock);
        expect(await store.destinationFor(key)).toBe(DEST);
      });
    });

    describe('console reads (issue 17)', () => {
      it('finds an event by its anonymousId when its lane is its userId, and names by case-insensitive prefix', async () => {
        const known = trackEvent('user-7', { anonymousId: 'anon-7', event: 'Order Completed' });
        const anonymous = trackEvent('anon-9', { userId: undefined, anonymousId: 'anon-9', event: 'order shipped' });
        const other = trackEvent('user-8', { event: 'Product Added' });
        await store.append(batchOf(DEST, [known, anonymous, other], { receivedAt: received() }));
        const ids = (q: Parameters<EventStore['search']>[0]) => store.search(q).then((p) => p.events.map((e) => e.messageId));
        expect(await ids({ laneKey: 'anon-7' })).toEqual([known.messageId]);
        expect(await ids({ laneKey: 'user-7' })).toEqual([known.messageId]);
        expect(await ids({ laneKey: 'anon-9' })).toEqual([anonymous.messageId]);
        expect(await ids({ eventName: 'ORDER' })).toEqual([anonymous.messageId, known.messageId]);
        expect(await ids({ eventName: 'order c' })).toEqual([known.messageId]);
        expect(await ids({ eventName: 'Order Completed' })).toEqual([known.messageId]);
        expect(await ids({ eventName: 'rder' })).toEqual([]);
        expect(await ids({ eventName: 'pro', laneKey: 'user-8' })).toEqual([other.messageId]);
        // Dead-letter selections use the same user filter.
        await store.claimLanes('w1', 10, 30_000);
        await settle((await store.head(lane('user-7')))!, { state: 'failed', reason: 'x' });
        expect(await store.retryDeadLetters({ filter: { laneKey: 'anon-7' } })).toBe(1);
      });

      it('counts dead letters by exact reason with first and last seen and a sample, filtered', async () => {
        await store.append(batchOf(DEST, ['a', 'b', 'c', 'd'].map((u) => trackEvent(u)), { receivedAt: received() }));
        await store.append(batchOf(OTHER, [trackEvent('e')], { receivedAt: received() }));
        await store.claimLanes('w1', 10, 30_000);
        const fail = async (u: string, reason: string, destinationId = DEST) => {
          const head = (await store.head(lane(u, destinationId)))!;
          await settle(head, { state: 'failed', reason });
          clock.advance(60_000);
          return head;
        };
        const first = await fail('a', 'Sailthru error 99: bad');
        await fail('b', 'Sailthru error 99: bad');
        await fail('c', 'other reason');
        await fail('e', 'Sailthru error 99: bad', OTHER);
        const lastSeen = clock.now() - 60_000;
        const reasons = await store.deadLetterReasons({ destinationId: DEST });
        expect(reasons).toEqual([
          { reason: 'Sailthru error 99: bad', count: 2, firstSeen: new Date(lastSeen - 3 * 60_000), lastSeen: new Date(lastSeen - 2 * 60_000), sampleId: first.id },
          expect.objectContaining({ reason: 'other reason', count: 1 }),
        ]);
        expect((await store.deadLetterReasons({})).map((r) => [r.reason, r.count])).toEqual([
          ['Sailthru error 99: bad', 3],
          ['other reason', 1],
        ]);
        expect(await store.deadLetterReasons({ laneKey: 'c' })).toEqual([expect.objectContaining({ reason: 'other reason', count: 1 })]);
        expect(await store.deadLetterReasons({ destinationId: 'nope' })).toEqual([]);
      });

      it('reports events stored and attempts recorded after a cursor, oldest first', async () => {
        const empty = await store.recentActivity(null, 10);
        expect(empty).toEqual({ events: [], attempts: [], cursor: { eventId: 0, attemptId: 0 } });
        const [e1, e2] = [trackEvent('u1'), trackEvent('u2')];
        await store.append(batchOf(DEST, [e1, e2], { receivedAt: received() }));
        const first = await store.recentActivity(null, 10);
        expect(first.events.map((e) => e.messageId)).toEqual([e1.messageId, e2.messageId]);
        expect(first.attempts).toEqual([]);
        await store.claimLanes('w1', 10, 30_000);
        await settle((await store.head(lane('u1')))!, { state: 'delivered' });
        const e3 = trackEvent('u3');
        await store.append(batchOf(DEST, [e3], { receivedAt: received() }));
        const next = await store.recentActivity(first.cursor, 10);
        expect(next.events.map((e) => e.messageId)).toEqual([e3.messageId]);
        expect(next.attempts.map((a) => [a.event.messageId, a.attempt.state, a.event.status])).toEqual([[e1.messageId, 'delivered', 'delivered']]);
        const idle = await store.recentActivity(next.cursor, 10);
        expect(idle).toEqual({ events: [], attempts: [], cursor: next.cursor });
        // A limit keeps the oldest first, and the cursor moves only past what was returned.
        const limited = await store.recentActivity({ eventId: 0, attemptId: 0 }, 2);
        expect(limited.events.map((e) => e.messageId)).toEqual([e1.messageId, e2.messageId]);
        expect((await store.recentActivity(limited.cursor, 2)).events.map((e) => e.messageId)).toEqual([e3.messageId]);
      });

      it('keeps a write key prefix to tell keys apart, and when ingest last accepted it', async () => {
        const created = await store.createWriteKey(DEST, 'website');
        expect(created.record.prefix).toBe(created.key.slice(0, 7));
        expect(created.record.lastUsedAt).toBeNull();
        const chosen = await store.importWriteKey(OTHER, 'chosen-key-0123456789', 'env');
        expect(chosen.prefix).toBe('chos');
        expect((await store.importWriteKey(OTHER, 'short-key', 'env')).prefix).toBeNull();
        await store.recordWriteKeyUse([created.key, 'chosen-key-0123456789', 'unknown-key'], new Date(clock.now()));
        // Older news never moves it back.
        await store.recordWriteKeyUse([created.key], new Date(clock.now() - 60_000));
        const keys = await store.listWriteKeys();
        expect(keys.find((k) => k.id === created.record.id)?.lastUsedAt).toEqual(new Date(clock.now()));
        expect(keys.find((k) => k.id === chosen.id)?.lastUsedAt).toEqual(new Date(clock.now()));
        expect(JSON.stringify(keys)).not.toContain(created.key);
      });

      it('keeps chart buckets per process, replaces a process own row, prunes by resolution', async () => {
        const row = (bucketStart: number, processId: string, n: number, resolutionMs = 10_000) => ({
          resolutionMs,
          bucketStart,
          processId,
          data: { eventsIn: n, calls: { 'POST /user': n } },
          updatedAt: clock.now(),
        });
        await store.saveSeriesBuckets([row(10_000, 'p1', 1), row(10_000, 'p2', 2), row(20_000, 'p1', 3), row(3_600_000, 'p1', 9, 3_600_000)], []);
        await store.saveSeriesBuckets([row(20_000, 'p1', 4)], []);
        expect((await store.readSeriesBuckets(10_000, 0, 30_000)).map((r) => [r.bucketStart, r.processId, r.data])).toEqual([
          [10_000, 'p1', { eventsIn: 1, calls: { 'POST /user': 1 } }],
          [10_000, 'p2', { eventsIn: 2, calls: { 'POST /user': 2 } }],
          [20_000, 'p1', { eventsIn: 4, calls: { 'POST /user': 4 } }],
        ]);
        expect(await store.readSeriesBuckets(10_000, 20_001, 30_000)).toEqual([]);
        await store.saveSeriesBuckets([], [{ resolutionMs: 10_000, before: 20_000 }]);
        expect((await store.readSeriesBuckets(10_000, 0, 30_000)).map((r) => r.bucketStart)).toEqual([20_000]);
        expect(await store.readSeriesBuckets(3_600_000, 0, 7_200_000)).toHaveLength(1);
      });
    });

    it('takes search values as values, never as SQL (injection, LIKE wildcards)', async () => {
      const hostile = ["' OR 1=1 --", "x'); DROP TABLE events; --", '%', '_', '*', '\\', "user-1' OR '1'='1"];
      await store.append(batchOf(DEST, [trackEvent('user-1'), trackEvent(hostile[1]!, { event: hostile[0]! })]));
      for (const value of hostile) {
        const byUser = (await store.search({ laneKey: value, limit: 500 })).events;
        expect(byUser.every((e) => e.laneKey === value), value).toBe(true);
        const byName = (await store.search({ eventName: value, limit: 500 })).events;
        expect(byName.every((e) => e.eventName === value), value).toBe(true);
        expect((await store.search({ messageId: value })).events, value).toEqual([]);
        expect((await store.search({ destinationId: value })).events, value).toEqual([]);
      }
      // The hostile values are found exactly, and the tables are all still there.
      expect((await store.search({ laneKey: hostile[1]! })).events).toHaveLength(1);
      expect((await store.search({ eventName: hostile[0]! })).events).toHaveLength(1);
      expect((await store.search({ destinationId: DEST, limit: 500 })).events).toHaveLength(2);
    });

    it('says it would take an append now (what /readyz asks)', async () => {
      await expect(store.checkWritable()).resolves.toBeUndefined();
    });

    describe('wrong admin tokens', () => {
      it('are counted by address within the window, forgotten after it, and cleared on sign-in', async () => {
        const t0 = 1_000_000;
        for (let i = 0; i < 3; i++) await store.recordSignInFailure('10.0.0.1', t0 + i, t0 - 60_000);
        await store.recordSignInFailure('10.0.0.2', t0 + 5, t0 - 60_000);
        expect(await store.countSignInFailures('10.0.0.1', t0)).toBe(3);
        expect(await store.countSignInFailures('10.0.0.1', t0 + 1)).toBe(2);
        expect(await store.countSignInFailures('10.0.0.2', t0)).toBe(1);
        expect(await store.countSignInFailures('10.0.0.3', 0)).toBe(0);
        // A later try forgets every address's tries from before its window.
        await store.recordSignInFailure('10.0.0.3', t0 + 100_000, t0 + 2);
        expect(await store.countSignInFailures('10.0.0.1', 0)).toBe(1);
        expect(await store.countSignInFailures('10.0.0.2', 0)).toBe(1);
        await store.clearSignInFailures('10.0.0.2');
        expect(await store.countSignInFailures('10.0.0.2', 0)).toBe(0);
        expect(await store.countSignInFailures('10.0.0.3', 0)).toBe(1);
        // Kept on disk: another process (or a restart) sees the same count.
        await store.close();
        store = await harness.open(clock);
        expect(await store.countSignInFailures('10.0.0.1', 0)).toBe(1);
      });
    });

    describe('identity links (SPEC.md §0)', () => {
      it('ties an anonymousId to a userId per destination; the latest tie wins; survives a restart', async () => {
        expect(await store.linkedUserId(DEST, 'anon-1')).toBeNull();
        await store.linkIdentity(DEST, 'anon-1', 'user-1');
        await store.linkIdentity(DEST, 'anon-2', 'user-1');
        await store.linkIdentity(OTHER, 'anon-1', 'other-user');
        expect(await store.linkedUserId(DEST, 'anon-1')).toBe('user-1');
        expect(await store.linkedUserId(OTHER, 'anon-1')).toBe('other-user');
        // A shared device identified as someone else later: that tie replaces the first.
        await store.linkIdentity(DEST, 'anon-2', 'user-2');
        expect(await store.linkedUserId(DEST, 'anon-2')).toBe('user-2');
        await store.close();
        store = await harness.open(clock);
        expect(await store.linkedUserId(DEST, 'anon-1')).toBe('user-1');
        expect(await store.linkedUserId(DEST, 'anon-2')).toBe('user-2');
      });

      it('forgets a deleted user\'s ties, and a deleted destination\'s', async () => {
        await store.linkIdentity(DEST, 'anon-1', 'user-1');
        await store.linkIdentity(DEST, 'anon-2', 'user-1');
        await store.linkIdentity(DEST, 'anon-3', 'user-3');
        await store.linkIdentity(OTHER, 'anon-1', 'user-1');
        expect(await store.forgetIdentities(DEST, 'user-1')).toBe(2);
        expect(await store.linkedUserId(DEST, 'anon-1')).toBeNull();
        expect(await store.linkedUserId(DEST, 'anon-3')).toBe('user-3');
        expect(await store.linkedUserId(OTHER, 'anon-1')).toBe('user-1');
        expect(await store.deleteDestination(OTHER)).toBe(true);
        await store.createDestination({ id: OTHER, name: 'B again', settings: SETTINGS });
        expect(await store.linkedUserId(OTHER, 'anon-1')).toBeNull();
      });
    });

    describe('profiles sent by identify (issue 19)', () => {
      it('keeps the last hash per destination and user, replaces it, survives a restart, forgets users and a deleted destination', async () => {
        expect(await store.lastSentProfile(DEST, 'user-1')).toBeNull();
        await store.recordSentProfile(DEST, 'user-1', { hash: 'a'.repeat(64), settingsVersion: 1, sentAt: 1000 });
        await store.recordSentProfile(DEST, 'user-2', { hash: 'b'.repeat(64), settingsVersion: 1, sentAt: 2000 });
        await store.recordSentProfile(OTHER, 'user-1', { hash: 'c'.repeat(64), settingsVersion: 3, sentAt: 3000 });
        await store.recordSentProfile(DEST, 'user-1', { hash: 'd'.repeat(64), settingsVersion: 2, sentAt: 4000 });
        expect(await store.lastSentProfile(DEST, 'user-1')).toEqual({ hash: 'd'.repeat(64), settingsVersion: 2, sentAt: 4000 });
        await store.close();
        store = await harness.open(clock);
        expect(await store.lastSentProfile(OTHER, 'user-1')).toEqual({ hash: 'c'.repeat(64), settingsVersion: 3, sentAt: 3000 });
        expect(await store.forgetSentProfiles(DEST, ['user-1', 'user-9'])).toBe(1);
        expect(await store.lastSentProfile(DEST, 'user-1')).toBeNull();
        expect(await store.lastSentProfile(DEST, 'user-2')).not.toBeNull();
        expect(await store.deleteDestination(OTHER)).toBe(true);
        expect(await store.lastSentProfile(OTHER, 'user-1')).toBeNull();
      });

      it('forgets a deleted user: their row and every address row naming them, in any settings version, and nothing else', async () => {
        const claim = (n: number) => `email-sha256:${String(n).repeat(64)}`;
        await store.recordSentProfile(DEST, 'user-1', { hash: 'a'.repeat(64), settingsVersion: 1, sentAt: 1000 });
        await store.recordSentProfile(DEST, claim(1), { hash: 'user-1', settingsVersion: 1, sentAt: 1000 });
        await store.recordSentProfile(DEST, claim(2), { hash: 'user-1', settingsVersion: 7, sentAt: 1000 });
        await store.recordSentProfile(DEST, claim(3), { hash: 'user-2', settingsVersion: 1, sentAt: 1000 });
        await store.recordSentProfile(OTHER, claim(1), { hash: 'user-1', settingsVersion: 1, sentAt: 1000 });
        // An identify's row whose hash happens to equal the extid is not an address row.
        await store.recordSentProfile(DEST, 'user-3', { hash: 'user-1', settingsVersion: 1, sentAt: 1000 });
        expect(await store.forgetSentProfilesOfUser(DEST, 'user-1')).toBe(3);
        for (const key of ['user-1', claim(1), claim(2)]) expect(await store.lastSentProfile(DEST, key)).toBeNull();
        expect((await store.lastSentProfile(DEST, claim(3)))?.hash).toBe('user-2');
        expect((await store.lastSentProfile(DEST, 'user-3'))?.hash).toBe('user-1');
        expect((await store.lastSentProfile(OTHER, claim(1)))?.hash).toBe('user-1');
        expect(await store.forgetSentProfilesOfUser(DEST, 'user-1')).toBe(0);
      });
    });
  });
}
