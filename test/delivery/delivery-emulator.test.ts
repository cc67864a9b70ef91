import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.ts';
import { DeliveryMetrics } from '../../src/delivery/metrics.ts';
import { openSqliteStore, type SqliteEventStore } from '../../src/delivery/sqlite-store.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { RetryPolicy } from '../../src/delivery/retry-policy.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { batchOf, emulatorSettings, tempDir, trackEvent, until } from './helpers.ts';

/** The real chain: lane queue → registry → createDestination → Sailthru client → rate gate → emulator. */
describe('delivery against the Sailthru emulator', () => {
  let emulator: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  let registry: DestinationRegistry;
  let worker: DeliveryWorker;
  let metrics: DeliveryMetrics;
  let settings: DestinationSettings;

  beforeEach(async () => {
    emulator = await startEmulator({ faults: { failRate: 0.2, seed: 11 } });
    tmp = tempDir('delivery-emulator-');
    store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
    settings = emulatorSettings(emulator);
    await store.createDestination({ id: 'main', name: 'Main', settings });
    metrics = new DeliveryMetrics({ log: store });
    registry = new DestinationRegistry({ directory: store, onRateLimitWait: (w) => metrics.recordRateLimitWait(w) });
    worker = new DeliveryWorker({
      store,
      deliver: registry.deliver,
      concurrency: 16,
      pollMs: 20,
      retryPolicy: new RetryPolicy({ baseMs: 5, capMs: 40 }),
    });
    metrics.attachWorker(worker);
  });

  afterEach(async () => {
    await worker.stop();
    await registry.close();
    await store.close();
    await emulator.close();
    tmp.remove();
  });

  it('delivers identify and track events of 20 users, each user in order and once, through 20% transient faults', async () => {
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const sink = metrics.instrumentSink(store);
    for (let seq = 0; seq < 8; seq++) {
      const events: SegmentEvent[] = users.map((u) =>
        seq === 0
          ? { type: 'identify', messageId: `${u}-identify`, userId: u, traits: { email: `${u}@example.com`, plan: 'pro' } }
          : trackEvent(u, { event: 'Step Done', properties: { seq } }),
      );
      await sink.append(batchOf('main', events));
    }
    worker.start();
    await until(async () => (await store.backlog()) === 0 && (await store.search({ status: 'retrying' })).events.length === 0, 20);

    const failedOrOther = await store.search({ status: ['failed', 'pending', 'retrying', 'skipped'] });
    expect(failedOrOther.events).toEqual([]);
    // Faults are "not applied", so every successful /event is one delivery; per user, in order.
    const ok = emulator.requests({ path: '/event', method: 'POST' }).filter((r) => r.status === 200);
    for (const u of users) {
      const seqs = ok
        .map((r) => r.payload as { id: string; vars?: { seq?: number } })
        .filter((p) => p.id === u)
        .map((p) => p.vars?.seq);
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
    // Faults happened, so some events took retries, and none of those broke the order.
    const faults = emulator.requests().filter((r) => r.fault !== undefined);
    expect(faults.length).toBeGreaterThan(0);

    // Each user's identify came before their first event.
    const state = emulator.state();
    expect(state.profiles.filter((p) => p.keys.email?.endsWith('@example.com'))).toHaveLength(20);
    const all = emulator.requests().filter((r) => r.status === 200);
    for (const u of users) {
      const firstUser = all.findIndex((r) => r.path === '/user' && r.method === 'POST' && (r.payload as { id?: string }).id === u);
      const firstEvent = all.findIndex((r) => r.path === '/event' && (r.payload as { id?: string }).id === u);
      expect(firstUser).toBeGreaterThanOrEqual(0);
      expect(firstUser).toBeLessThan(firstEvent);
    }

    // The delivery log shows the Sailthru calls, without the secret.
    const [one] = (await store.search({ laneKey: 'user-3', eventName: 'Step Done', status: 'delivered', limit: 1 })).events;
    const detail = (await store.getEvent(one!.id))!;
    expect(detail.attempts.at(-1)!.calls).toEqual([expect.objectContaining({ method: 'POST', endpoint: '/event', status: 200 })]);
    expect(JSON.stringify(detail)).not.toContain(settings.sharedSecret);

    const text = await metrics.registry.metrics();
    expect(text).toContain('sailthru_destination_events_received_total{destination="main"} 160');
    expect(text).toContain('sailthru_destination_events_delivered_total{destination="main"} 160');
    expect(text).toMatch(/sailthru_destination_events_retried_total\{destination="main"\} [1-9]/);
    expect(text).toMatch(/sailthru_destination_sailthru_calls_total\{method="POST",endpoint="\/event",status="200"\} 140/);
    expect(text).toContain('sailthru_destination_backlog_events{destination="main"} 0');
  });

  it('pauses on bad credentials, keeps the events, and delivers them after the settings are fixed', async () => {
    emulator.setFaults({});
    await store.updateDestination('main', { settings: { ...settings, sharedSecret: 'wrong-secret' } });
    const events = [trackEvent('u1'), trackEvent('u1'), trackEvent('u2')];
    await store.append(batchOf('main', events));
    worker.start();
    await until(async () => (await store.getDestination('main'))!.paused);
    const paused = (await store.getDestination('main'))!;
    expect(paused.pauseReason).toMatch(/error 5|signature|authentication/i);
    expect(paused.pauseReason).not.toContain('wrong-secret');
    // Nothing dead-lettered or lost: the heads of the two lanes in flight found the account refused.
    const queued = (await store.search({ destinationId: 'main' })).events;
    expect(queued.map((e) => e.status)).toEqual(['pending', 'pending', 'pending']);
    const pausedHeads = queued.filter((e) => e.outcome?.state === 'paused').map((e) => e.laneKey);
    expect(pausedHeads.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pausedHeads).size).toBe(pausedHeads.length);

    await store.updateDestination('main', { settings });
    await until(async () => (await store.search({ status: 'delivered' })).events.length === 3);
    expect((await store.getDestination('main'))!.paused).toBe(false);
  });

  it('answers an event whose destination settings are invalid by pausing, with the reason', async () => {
    emulator.setFaults({});
    await store.updateDestination('main', { settings: { ...settings, apiKey: '' } });
    await store.append(batchOf('main', [trackEvent('u1')]));
    worker.start();
    await until(async () => (await store.getDestination('main'))!.paused);
    expect((await store.getDestination('main'))!.pauseReason).toMatch(/invalid settings: .*apiKey/);
  });
});
