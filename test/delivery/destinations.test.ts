import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry, accountIdOf, type DeliveringDestination, type DestinationFactory } from '../../src/delivery/destinations.ts';
import { openSqliteStore, type SqliteEventStore } from '../../src/delivery/sqlite-store.ts';
import type { QueuedEvent } from '../../src/delivery/store.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import type { RequestGate } from '../../src/sailthru/types.ts';
import { SETTINGS, batchOf, deferred, tempDir, trackEvent } from './helpers.ts';

interface Built {
  settings: DestinationSettings;
  gate: RequestGate;
  closed: boolean;
  delivered: string[];
}

describe('DestinationRegistry', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  let built: Built[];
  let hold: Promise<void> | null;
  let now: number;
  let registry: DestinationRegistry;
  let event: QueuedEvent;

  const factory: DestinationFactory = (settings, { gate }) => {
    const record: Built = { settings, gate, closed: false, delivered: [] };
    built.push(record);
    const instance: DeliveringDestination = {
      async deliver(e) {
        if (hold) await hold;
        if (record.closed) throw new Error('used after close');
        record.delivered.push(e.messageId);
        return settings.sharedSecret === 'bad'
          ? { state: 'paused', reason: 'bad secret', calls: [], warnings: [] }
          : { state: 'delivered', calls: [], warnings: [] };
      },
      async close() {
        record.closed = true;
      },
    };
    return instance;
  };

  beforeEach(async () => {
    tmp = tempDir('registry-');
    store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
    await store.createDestination({ id: 'd', name: 'D', settings: SETTINGS });
    await store.createDestination({ id: 'same-account', name: 'S', settings: SETTINGS });
    await store.append(batchOf('d', [trackEvent('u1')]));
    event = (await store.head({ destinationId: 'd', laneKey: 'u1' }))!;
    built = [];
    hold = null;
    now = 0;
    registry = new DestinationRegistry({ directory: store, factory, refreshMs: 1000, now: () => now });
  });

  afterEach(async () => {
    await registry.close();
    await store.close();
    tmp.remove();
  });

  it('builds one instance per destination, even for concurrent first deliveries', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => registry.deliver('d', event)));
    expect(results.every((r) => r.state === 'delivered' && r.settingsVersion === 1)).toBe(true);
    expect(built).toHaveLength(1);
    expect(built[0]!.settings.apiKey).toBe(SETTINGS.apiKey);
  });

  it('shares one rate gate per Sailthru account, and keeps accounts apart', async () => {
    await store.createDestination({ id: 'other-account', name: 'O', settings: { ...SETTINGS, apiKey: 'another' } });
    await registry.deliver('d', event);
    await registry.deliver('same-account', event);
    await registry.deliver('other-account', event);
    expect(built).toHaveLength(3);
    expect(built[0]!.gate).toBe(built[1]!.gate);
    expect(built[2]!.gate).not.toBe(built[0]!.gate);
    expect(accountIdOf(SETTINGS)).toMatch(/^[0-9a-f]{16}$/);
    expect(accountIdOf(SETTINGS)).not.toContain(SETTINGS.apiKey);
  });

  it('rebuilds when the settings change, and closes the old instance once its deliveries finish', async () => {
    await registry.deliver('d', event);
    const gate = deferred<void>();
    hold = gate.promise;
    const inFlight = registry.deliver('d', event);
    await store.updateDestination('d', { settings: { ...SETTINGS, customerId: 'c2' } });
    now += 1000;
    hold = null;
    const fresh = await registry.deliver('d', event);
    expect(fresh.settingsVersion).toBe(2);
    expect(built).toHaveLength(2);
    expect(built[1]!.settings.customerId).toBe('c2');
    expect(built[0]!.closed).toBe(false);
    gate.resolve();
    expect((await inFlight).state).toBe('delivered');
    expect(built[0]!.closed).toBe(true);
  });

  it('uses the cached instance until the refresh interval passes', async () => {
    await registry.deliver('d', event);
    await store.updateDestination('d', { settings: { ...SETTINGS, customerId: 'c2' } });
    await registry.deliver('d', event);
    expect(built).toHaveLength(1);
    now += 1000;
    await registry.deliver('d', event);
    expect(built).toHaveLength(2);
  });

  it('does not report a pause from stale settings: retries at once with the new ones', async () => {
    await store.updateDestination('d', { settings: { ...SETTINGS, sharedSecret: 'bad' } });
    expect(await registry.deliver('d', event)).toMatchObject({ state: 'paused', settingsVersion: 2 });
    await store.updateDestination('d', { settings: SETTINGS });
    // Still inside the refresh interval: the paused answer makes it look again.
    expect(await registry.deliver('d', event)).toMatchObject({ state: 'delivered', settingsVersion: 3 });
  });

  it('pauses on invalid settings, and fails events of a destination that is gone', async () => {
    await store.updateDestination('d', { settings: { ...SETTINGS, apiUrl: 'not a url' } });
    const outcome = await registry.deliver('d', event);
    expect(outcome.state).toBe('paused');
    expect(outcome).toMatchObject({ reason: expect.stringMatching(/^invalid settings: .*apiUrl/) });
    expect(built).toHaveLength(0);
    expect(await registry.deliver('missing', event)).toMatchObject({ state: 'failed', reason: 'destination missing no longer exists' });
  });
});
