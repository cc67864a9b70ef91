import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry, type DestinationFactory } from '../../src/delivery/destinations.ts';
import { createDestination } from '../../src/destination/index.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import type { EventStore } from '../../src/delivery/store.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { defaultMappings } from '../../src/destination/mappings/defaults.ts';
import type { Mapping } from '../../src/destination/mappings/schema.ts';
import { emulatorSettings, queuedEvent, tempDir } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

/**
 * Issue 19: an identify whose POST /user would be the one Sailthru last accepted for the user, within
 * `unchangedIdentifyHours`, is skipped; the memory lives in the store (both stores, real emulator).
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

const identify = (traits: Record<string, unknown>, userId = 'U1'): SegmentEvent => ({ type: 'identify', messageId: `m-${++seq}`, userId, traits });

async function deliverWith(store: EventStore, event: SegmentEvent, now: () => number = Date.now) {
  // The destination's clock moves; the registry's stays real.
  const factory: DestinationFactory = (built, options) =>
    createDestination(built, {
      gate: options.gate,
      now,
      ...(options.identityLinks ? { identityLinks: options.identityLinks } : {}),
      ...(options.sentProfiles ? { sentProfiles: options.sentProfiles } : {}),
      ...(options.mappings ? { mappings: options.mappings } : {}),
    });
  const registry = new DestinationRegistry({ directory: store, identities: store, sentProfiles: store, factory });
  try {
    return await registry.deliver('main', queuedEvent(event, ++seq));
  } finally {
    await registry.close();
  }
}

const userPosts = () => emulator.requests({ path: '/user', method: 'POST' }).length;

type Open = () => Promise<EventStore>;

function suite(name: string, setUp: () => Promise<{ open: Open; done: () => Promise<void> }>) {
  describe(name, () => {
    let open: Open;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ open, done } = await setUp());
    });
    afterEach(async () => {
      await done();
    });

    it('skips a repeated identify and says so, sends changed traits, remembers across a new store instance', async () => {
      const store = await open();
      await store.createDestination({ id: 'main', name: 'Main', settings });
      expect((await deliverWith(store, identify({ email: 'u1@example.com', plan: 'gold' }))).state).toBe('delivered');
      const first = await store.lastSentProfile('main', 'U1');
      // A hash, not the payload (PII).
      expect(first?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(first)).not.toContain('u1@example.com');
      const repeat = await deliverWith(store, identify({ plan: 'gold', email: 'u1@example.com' }));
      expect(repeat).toMatchObject({ state: 'skipped', reason: `unchanged since ${new Date(first!.sentAt).toISOString()}`, calls: [] });
      expect(userPosts()).toBe(1);

      const changed = await deliverWith(store, identify({ email: 'u1@example.com', plan: 'platinum' }));
      expect(changed.state).toBe('delivered');
      expect(userPosts()).toBe(2);

      // Another instance on the same file / database remembers it.
      const again = await open();
      expect((await deliverWith(again, identify({ email: 'u1@example.com', plan: 'platinum' }))).state).toBe('skipped');
      expect(userPosts()).toBe(2);
    });

    it('TTL 0 sends every identify; the TTL runs out; a settings change forgets', async () => {
      const store = await open();
      await store.createDestination({ id: 'main', name: 'Main', settings: { ...settings, unchangedIdentifyHours: 0 } });
      await deliverWith(store, identify({ plan: 'gold' }));
      expect((await deliverWith(store, identify({ plan: 'gold' }))).state).toBe('delivered');
      expect(userPosts()).toBe(2);

      await store.updateDestination('main', { settings: { ...settings, unchangedIdentifyHours: 1 } });
      const t0 = Date.now();
      expect((await deliverWith(store, identify({ plan: 'gold' }), () => t0)).state).toBe('delivered');
      expect((await deliverWith(store, identify({ plan: 'gold' }), () => t0 + 3_599_000)).state).toBe('skipped');
      expect((await deliverWith(store, identify({ plan: 'gold' }), () => t0 + 3_600_000)).state).toBe('delivered');
      expect(userPosts()).toBe(4);

      // New settings version: what was sent under the old ones counts as not sent.
      await store.updateDestination('main', { settings: { ...settings, unchangedIdentifyHours: 2 } });
      expect((await deliverWith(store, identify({ plan: 'gold' }))).state).toBe('delivered');
      expect(userPosts()).toBe(5);
    });

    it('is forgotten after a deletion and after an alias merge', async () => {
      const store = await open();
      await store.createDestination({ id: 'main', name: 'Main', settings });
      await deliverWith(store, identify({ email: 'u1@example.com' }));
      expect((await deliverWith(store, { type: 'delete', messageId: 'm-del', userId: 'U1', authenticatedBy: 'admin' })).state).toBe('delivered');
      expect(await store.lastSentProfile('main', 'U1')).toBeNull();
      expect((await deliverWith(store, identify({ email: 'u1@example.com' }))).state).toBe('delivered');

      await deliverWith(store, identify({ email: 'old@example.com' }, 'OLD'));
      expect(await store.lastSentProfile('main', 'OLD')).not.toBeNull();
      expect((await deliverWith(store, { type: 'alias', messageId: 'm-alias', userId: 'U1', previousId: 'OLD' })).state).toBe('delivered');
      expect(await store.lastSentProfile('main', 'OLD')).toBeNull();
      expect(await store.lastSentProfile('main', 'U1')).toBeNull();
      expect((await deliverWith(store, identify({ email: 'u1@example.com' }))).state).toBe('delivered');
    });

    it('another POST /user to the user in between (list change, an identify of its linked anonymousId) is never skipped over', async () => {
      const store = await open();
      const unsubscribe: Mapping = {
        id: 'unsub',
        name: 'Unsubscribe',
        enabled: true,
        trigger: { types: ['track'], event: { equals: 'Unsubscribed' } },
        action: 'list-unsubscribe',
        fields: { listName: { fixed: 'Newsletter' } },
      };
      await store.createDestination({ id: 'main', name: 'Main', settings, mappings: [unsubscribe, ...defaultMappings()] });
      const joins = identify({ email: 'u1@example.com', lists: ['Newsletter'] });
      expect((await deliverWith(store, joins)).state).toBe('delivered');
      expect((await deliverWith(store, { type: 'track', messageId: `m-${++seq}`, userId: 'U1', event: 'Unsubscribed' })).state).toBe('delivered');
      // The same identify now joins the list again: Sailthru's profile is not what was last sent by identify.
      expect((await deliverWith(store, identify({ email: 'u1@example.com', lists: ['Newsletter'] }))).state).toBe('delivered');
      expect(userPosts()).toBe(3);

      // U1 and A1 tied; an identify of A1 alone goes to U1's profile with other traits.
      expect((await deliverWith(store, { ...identify({ plan: 'gold' }), anonymousId: 'A1' })).state).toBe('delivered');
      expect((await deliverWith(store, { type: 'identify', messageId: `m-${++seq}`, anonymousId: 'A1', traits: { plan: 'silver' } })).state).toBe('delivered');
      const lastPost = emulator.requests({ path: '/user', method: 'POST' }).at(-1)?.payload as Record<string, unknown>;
      expect(lastPost).toMatchObject({ id: 'U1', vars: { plan: 'silver' } });
      // U1's profile holds silver now: gold again must be sent.
      expect((await deliverWith(store, identify({ plan: 'gold' }))).state).toBe('delivered');
    });

    it("another user's POST /user with this user's email merges this profile away: the user's next identify is sent", async () => {
      const store = await open();
      await store.createDestination({ id: 'main', name: 'Main', settings });
      const profileOf = (extid: string) => emulator.state().profiles.find((p) => p.keys.extid === extid);
      for (const [via, second] of [
        ['identify', identify({ email: 'shared@example.com' }, 'U2')],
        ['alias', { type: 'alias', messageId: `m-${++seq}`, userId: 'U3', previousId: 'P3', traits: { email: 'shared@example.com' } } as SegmentEvent],
        [
          'cart',
          {
            type: 'track',
            messageId: `m-${++seq}`,
            userId: 'U4',
            event: 'Product Added',
            properties: { product_id: 'a', name: 'A', price: 1, quantity: 1, url: 'https://shop.example/a' },
            context: { traits: { email: 'shared@example.com' } },
          } as SegmentEvent,
        ],
      ] as const) {
        // The alias merges P3's profile: it has to exist.
        if (via === 'alias') expect((await deliverWith(store, identify({ seen: 1 }, 'P3'))).state).toBe('delivered');
        expect((await deliverWith(store, identify({ email: 'shared@example.com', plan: via }))).state, via).toBe('delivered');
        expect(profileOf('U1'), via).toBeDefined();
        // keysconflict merge: U1's profile (it holds the address) is merged into the other one, U1's extid gone.
        expect((await deliverWith(store, second)).state, via).toBe('delivered');
        expect(profileOf('U1'), via).toBeUndefined();
        // What one-at-a-time delivery does: the identify puts a profile under U1 back.
        expect((await deliverWith(store, identify({ email: 'shared@example.com', plan: via }))).state, via).toBe('delivered');
        expect(profileOf('U1')?.vars, via).toMatchObject({ plan: via });
      }
    });

    it('a deletion forgets who posted its address last (the row keyed by the address hash)', async () => {
      const store = await open();
      await store.createDestination({ id: 'main', name: 'Main', settings });
      const claimKey = `email-sha256:${createHash('sha256').update('gone@example.com').digest('hex')}`;
      expect((await deliverWith(store, identify({ email: 'Gone@example.com' }))).state).toBe('delivered');
      expect((await store.lastSentProfile('main', claimKey))?.hash).toBe('U1');
      const deletion = { type: 'delete', messageId: `m-${++seq}`, userId: 'U1', authenticatedBy: 'admin', context: { traits: { email: 'gone@example.com' } } };
      expect((await deliverWith(store, deletion as SegmentEvent)).state).toBe('delivered');
      expect(await store.lastSentProfile('main', claimKey)).toBeNull();
    });

    it('a failed POST /user records nothing', async () => {
      const store = await open();
      await store.createDestination({ id: 'main', name: 'Main', settings });
      emulator.setFaults({ failRate: 1 });
      expect((await deliverWith(store, identify({ plan: 'gold' }))).state).toBe('retry');
      expect(await store.lastSentProfile('main', 'U1')).toBeNull();
      emulator.setFaults({});
      expect((await deliverWith(store, identify({ plan: 'gold' }))).state).toBe('delivered');
    });
  });
}

suite('SQLite', async () => {
  const tmp = tempDir('unchanged-identify-');
  const path = join(tmp.dir, 'q.db');
  const stores: EventStore[] = [];
  return {
    open: async () => {
      const store = await openSqliteStore({ path });
      stores.push(store);
      return store;
    },
    done: async () => {
      for (const store of stores) await store.close();
      tmp.remove();
    },
  };
});

suite('PostgreSQL', async () => {
  const schema = new TestSchema();
  return { open: () => schema.open(), done: () => schema.dispose() };
});
