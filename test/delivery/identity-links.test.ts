import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import type { EventStore } from '../../src/delivery/store.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { emulatorSettings, queuedEvent, tempDir } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

/**
 * SPEC.md §0: once an identify tied anonymousId A1 to userId U1, a late event with only A1 is sent
 * under U1, by any worker, after a restart too: the tie lives in the store.
 */
let emulator: RunningEmulator;
let settings: DestinationSettings;
beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
  settings = emulatorSettings(emulator);
});
afterEach(async () => {
  await emulator.close();
});

let seq = 0;
const track = (anonymousId: string, name: string): SegmentEvent => ({ type: 'track', messageId: `m-${++seq}`, anonymousId, event: name });
const identify: SegmentEvent = { type: 'identify', messageId: 'm-identify', userId: 'U1', anonymousId: 'A1', traits: { email: 'u1@example.com' } };

async function deliverWith(store: EventStore, event: SegmentEvent) {
  const registry = new DestinationRegistry({ directory: store, identities: store });
  try {
    return await registry.deliver('main', queuedEvent(event, ++seq));
  } finally {
    await registry.close();
  }
}

function expectLateEventUnderUserId(): void {
  const late = emulator.requests({ path: '/event', method: 'POST' }).at(-1)?.payload as { id: string; event: string };
  expect(late).toMatchObject({ id: 'U1', key: 'extid', event: 'Late Click' });
  // No email-less orphan keyed by A1 was created by the late event.
  expect(emulator.state({ key: 'extid', id: 'A1' }).profiles.map((p) => p.keys.extid)).not.toContain('A1');
  expect(emulator.state({ key: 'extid', id: 'U1' }).profiles[0]?.keys.email).toBe('u1@example.com');
}

describe('identity ties in the store (SPEC.md §0)', () => {
  it('SQLite: a restarted service sends a late anonymous event under the userId', async () => {
    const tmp = tempDir('identity-links-');
    try {
      const path = join(tmp.dir, 'q.db');
      let store = await openSqliteStore({ path });
      await store.createDestination({ id: 'main', name: 'Main', settings });
      expect((await deliverWith(store, track('A1', 'Early Click'))).state).toBe('delivered');
      expect((await deliverWith(store, identify)).state).toBe('delivered');
      await store.close();

      store = await openSqliteStore({ path });
      const outcome = await deliverWith(store, track('A1', 'Late Click'));
      await store.close();
      expect(outcome.state).toBe('delivered');
      expect(outcome.warnings).toContain('sent under userId U1: anonymousId A1 was identified as that user');
      expectLateEventUnderUserId();
    } finally {
      tmp.remove();
    }
  });

  it('PostgreSQL: a worker that never saw the identify sends the late event under the userId', async () => {
    const schema = new TestSchema();
    try {
      const first = await schema.open();
      const second = await schema.open();
      await first.createDestination({ id: 'main', name: 'Main', settings });
      expect((await deliverWith(first, identify)).state).toBe('delivered');
      const outcome = await deliverWith(second, track('A1', 'Late Click'));
      expect(outcome.state).toBe('delivered');
      expectLateEventUnderUserId();
      // A deletion of U1 forgets the tie: A1 alone is A1 again.
      expect((await deliverWith(second, { type: 'delete', messageId: 'm-delete', userId: 'U1', authenticatedBy: 'admin' })).state).toBe('delivered');
      expect(await first.linkedUserId('main', 'A1')).toBeNull();
    } finally {
      await schema.dispose();
    }
  });
});
