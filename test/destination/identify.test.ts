import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.reset();
  h.mark();
});

function profileByExtid(extid: string) {
  return h.emulator.state({ key: 'extid', id: extid }).profiles[0];
}

describe('identify → POST /user (SPEC.md §2)', () => {
  it('posts id = userId, key extid, keysconflict merge, keys.email, and flattened traits minus identity and settings keys', async () => {
    const outcome = await h.destination.deliver(
      event({
        type: 'identify',
        userId: 'u-1',
        traits: {
          email: 'ada@example.com',
          name: 'Ada',
          id: 'u-1',
          userId: 'u-1',
          anonymousId: 'a-1',
          defaultListName: 'ignored-here',
          optoutValue: 'all',
          optout_email: 'all',
          address: { city: 'London', street: 'St James' },
          tags: ['a', 'b'],
        },
      }),
    );
    expect(outcome.state).toBe('delivered');
    expect(h.received()).toEqual([
      {
        method: 'POST',
        path: '/user',
        payload: {
          id: 'u-1',
          key: 'extid',
          keysconflict: 'merge',
          keys: { email: 'ada@example.com' },
          // A valid traits.optout_email is the person's choice and is sent (SPEC.md §2.4, issue 16).
          optout_email: 'all',
          vars: { name: 'Ada', address_city: 'London', address_street: 'St James', tags_0: 'a', tags_1: 'b' },
        },
      },
    ]);
    const profile = profileByExtid('u-1');
    expect(profile?.keys).toMatchObject({ extid: 'u-1', email: 'ada@example.com' });
    expect(profile?.vars).toEqual({ name: 'Ada', address_city: 'London', address_street: 'St James', tags_0: 'a', tags_1: 'b' });
    expect(profile?.optout_email).toBe('all');
    expect(outcome.calls).toHaveLength(1);
    expect(outcome.calls[0]).toMatchObject({ method: 'POST', endpoint: '/user', status: 200 });
  });

  it('uses anonymousId as extid when there is no userId, and creates the profile without an email (§0, §2.5)', async () => {
    const outcome = await h.destination.deliver(event({ type: 'identify', anonymousId: 'anon-9', traits: { plan: 'free' } }));
    expect(outcome.state).toBe('delivered');
    expect(h.received()).toEqual([
      { method: 'POST', path: '/user', payload: { id: 'anon-9', key: 'extid', keysconflict: 'merge', vars: { plan: 'free' } } },
    ]);
    const profile = profileByExtid('anon-9');
    expect(profile?.keys.extid).toBe('anon-9');
    expect(profile?.keys.email).toBeUndefined();
  });

  it('takes the email from context.traits.email when traits have none (§0)', async () => {
    await h.destination.deliver(event({ type: 'identify', userId: 'u-2', context: { traits: { email: 'ctx@example.com' } } }));
    expect(h.received()[0]?.payload).toEqual({ id: 'u-2', key: 'extid', keysconflict: 'merge', keys: { email: 'ctx@example.com' } });
  });

  it('takes the email from userId when userId is an email address (§0)', async () => {
    await h.destination.deliver(event({ type: 'identify', userId: 'grace@example.com' }));
    expect(h.received()[0]?.payload).toEqual({
      id: 'grace@example.com',
      key: 'extid',
      keysconflict: 'merge',
      keys: { email: 'grace@example.com' },
    });
  });

  describe('lists (§2.2)', () => {
    it('joins the list of the defaultListName setting', async () => {
      const d = h.withSettings({ defaultListName: 'Newsletter' });
      await d.deliver(event({ type: 'identify', userId: 'u-3' }));
      expect(h.received()[0]?.payload).toMatchObject({ lists: { Newsletter: 1 } });
      expect(Object.keys(profileByExtid('u-3')?.lists ?? {})).toEqual(['Newsletter']);
    });

    it('prefers integrations.Sailthru.defaultListName over the setting', async () => {
      const d = h.withSettings({ defaultListName: 'Newsletter' });
      await d.deliver(event({ type: 'identify', userId: 'u-4', integrations: { Sailthru: { defaultListName: 'VIP' } } }));
      expect(h.received()[0]?.payload).toMatchObject({ lists: { VIP: 1 } });
      expect(Object.keys(profileByExtid('u-4')?.lists ?? {})).toEqual(['VIP']);
    });

    it('sends no lists when none resolves', async () => {
      await h.destination.deliver(event({ type: 'identify', userId: 'u-5' }));
      expect(h.received()[0]?.payload).not.toHaveProperty('lists');
    });
  });

  describe('optout (§2.4)', () => {
    it('sends no optout_email when the setting is none and the event does not override it', async () => {
      await h.destination.deliver(event({ type: 'identify', userId: 'u-6' }));
      expect(h.received()[0]?.payload).not.toHaveProperty('optout_email');
    });

    it('does not re-subscribe a user who opted out when the setting is none', async () => {
      // The user unsubscribed in Sailthru; a later identify must not undo it.
      await h.destination.deliver(event({ type: 'identify', userId: 'u-6b', integrations: { Sailthru: { optoutValue: 'all' } } }));
      await h.destination.deliver(event({ type: 'identify', userId: 'u-6b', traits: { plan: 'pro' } }));
      expect(profileByExtid('u-6b')?.optout_email).toBe('all');
    });

    it('sends the setting when it is not none', async () => {
      const d = h.withSettings({ optoutValue: 'basic' });
      await d.deliver(event({ type: 'identify', userId: 'u-7' }));
      expect(h.received()[0]?.payload).toMatchObject({ optout_email: 'basic' });
      expect(profileByExtid('u-7')?.optout_email).toBe('basic');
    });

    it('sends an event override, camelCase or snake_case, including none on purpose', async () => {
      const d = h.withSettings({ optoutValue: 'all' });
      await d.deliver(event({ type: 'identify', userId: 'u-8', integrations: { Sailthru: { optoutValue: 'blast' } } }));
      await d.deliver(event({ type: 'identify', userId: 'u-9', integrations: { Sailthru: { optout_email: 'none' } } }));
      const [first, second] = h.received();
      expect(first?.payload).toMatchObject({ optout_email: 'blast' });
      expect(second?.payload).toMatchObject({ optout_email: 'none' });
    });

    it('ignores an invalid override with a warning and falls back to the setting', async () => {
      const d = h.withSettings({ optoutValue: 'basic' });
      const outcome = await d.deliver(event({ type: 'identify', userId: 'u-10', integrations: { Sailthru: { optoutValue: 'everything' } } }));
      expect(h.received()[0]?.payload).toMatchObject({ optout_email: 'basic' });
      expect(outcome.warnings.join('\n')).toContain('"everything"');
    });
  });

  describe('anonymousId → userId merge (§2.3)', () => {
    it('looks up the anonymous profile and, when it exists, re-keys it to the userId and merges', async () => {
      // Anonymous browsing created a profile keyed by the anonymousId, through another process
      // (or before a restart): this one has no memory of it.
      const earlier = h.withSettings({});
      await earlier.deliver(event({ type: 'track', anonymousId: 'anon-1', event: 'Viewed Page', properties: {} }));
      await h.destination.deliver(event({ type: 'identify', userId: 'u-m', traits: { email: 'm@example.com', plan: 'old' } }));
      h.mark();

      const outcome = await h.destination.deliver(
        event({ type: 'identify', userId: 'u-m', anonymousId: 'anon-1', traits: { email: 'm@example.com', plan: 'pro' } }),
      );
      expect(outcome.state).toBe('delivered');
      expect(h.received()).toEqual([
        { method: 'GET', path: '/user', payload: { id: 'anon-1', key: 'extid', fields: { keys: 1 } } },
        {
          method: 'POST',
          path: '/user',
          payload: { id: 'anon-1', key: 'extid', keysconflict: 'merge', keys: { email: 'm@example.com', extid: 'u-m' }, vars: { plan: 'pro' } },
        },
      ]);
      const state = h.emulator.state();
      expect(state.profiles).toHaveLength(1);
      expect(state.profiles[0]?.keys).toMatchObject({ extid: 'u-m', email: 'm@example.com' });
      expect(state.profiles[0]?.vars).toMatchObject({ plan: 'pro' });
      expect(state.events.map((e) => e.event)).toEqual(['Viewed Page']);
      expect(state.deletedUsers.map((d) => d.reason)).toEqual(['merged']);
      expect(outcome.calls.map((c) => `${c.method} ${c.endpoint}`)).toEqual(['GET /user', 'POST /user']);
    });

    it('merges without a lookup a profile it created itself (the anonymous visitor\'s events)', async () => {
      await h.destination.deliver(event({ type: 'track', anonymousId: 'anon-own', event: 'Viewed Page', properties: {} }));
      await h.destination.deliver(event({ type: 'identify', anonymousId: 'anon-own-2', traits: { plan: 'trial' } }));
      await h.destination.deliver(event({ type: 'identify', userId: 'u-own', traits: { email: 'own@example.com' } }));
      h.mark();

      for (const [anonymousId, userId] of [['anon-own', 'u-own'], ['anon-own-2', 'u-own-2']] as const) {
        const outcome = await h.destination.deliver(event({ type: 'identify', userId, anonymousId }));
        expect(outcome.state).toBe('delivered');
        expect(outcome.calls.map((c) => `${c.method} ${c.endpoint}`)).toEqual(['POST /user']);
      }
      expect(h.received().map((r) => r.payload)).toEqual([
        { id: 'anon-own', key: 'extid', keysconflict: 'merge', keys: { extid: 'u-own' } },
        { id: 'anon-own-2', key: 'extid', keysconflict: 'merge', keys: { extid: 'u-own-2' } },
      ]);
      // Merged, as with a lookup: one profile per userId, none left under the anonymousIds.
      expect(profileByExtid('u-own')?.keys).toMatchObject({ email: 'own@example.com' });
      expect(profileByExtid('u-own-2')?.vars).toMatchObject({ plan: 'trial' });
      expect(profileByExtid('anon-own')).toBeUndefined();
      expect(profileByExtid('anon-own-2')).toBeUndefined();
      expect(h.emulator.state().profiles).toHaveLength(2);
    });

    it('looks up again a profile it created but has deleted since', async () => {
      await h.destination.deliver(event({ type: 'track', anonymousId: 'anon-del', event: 'Viewed Page', properties: {} }));
      await h.destination.deliver(event({ type: 'track', anonymousId: 'anon-del', event: 'User Deleted', properties: {}, authenticatedBy: 'admin' }));
      h.mark();
      const outcome = await h.destination.deliver(event({ type: 'identify', userId: 'u-del', anonymousId: 'anon-del' }));
      expect(outcome.calls.map((c) => `${c.method} ${c.endpoint} ${c.status}`)).toEqual(['GET /user 400', 'POST /user 200']);
      expect(h.received()[1]?.payload).toEqual({ id: 'u-del', key: 'extid', keysconflict: 'merge' });
    });

    it('remembers merged anonymousIds: a repeat identify does not look them up again', async () => {
      await h.destination.deliver(event({ type: 'track', anonymousId: 'anon-2', event: 'Opened App', properties: {} }));
      await h.destination.deliver(event({ type: 'identify', userId: 'u-r', anonymousId: 'anon-2' }));
      h.mark();
      await h.destination.deliver(event({ type: 'identify', userId: 'u-r', anonymousId: 'anon-2', traits: { plan: 'x' } }));
      expect(h.received()).toEqual([
        { method: 'POST', path: '/user', payload: { id: 'u-r', key: 'extid', keysconflict: 'merge', vars: { plan: 'x' } } },
      ]);
    });

    it('posts with id = userId when there is no anonymous profile', async () => {
      const outcome = await h.destination.deliver(event({ type: 'identify', userId: 'u-n', anonymousId: 'anon-none' }));
      expect(outcome.state).toBe('delivered');
      expect(h.received()).toEqual([
        { method: 'GET', path: '/user', payload: { id: 'anon-none', key: 'extid', fields: { keys: 1 } } },
        { method: 'POST', path: '/user', payload: { id: 'u-n', key: 'extid', keysconflict: 'merge' } },
      ]);
      expect(profileByExtid('u-n')).toBeDefined();
      expect(profileByExtid('anon-none')).toBeUndefined();
    });

    it('remembers that an anonymousId had no profile, for the same userId only', async () => {
      await h.destination.deliver(event({ type: 'identify', userId: 'u-a', anonymousId: 'anon-absent' }));
      h.mark();
      await h.destination.deliver(event({ type: 'identify', userId: 'u-a', anonymousId: 'anon-absent', traits: { plan: 'y' } }));
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /user']);
      // Another person on the same device: looked up again.
      h.mark();
      await h.destination.deliver(event({ type: 'identify', userId: 'u-b', anonymousId: 'anon-absent' }));
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user', 'POST /user']);
    });

    it('looks an absent anonymousId up again after an hour', async () => {
      let clock = 1_000_000;
      const d = h.withSettings({}, { now: () => clock });
      await d.deliver(event({ type: 'identify', userId: 'u-t', anonymousId: 'anon-later' }));
      clock += 3_600_001;
      h.mark();
      await d.deliver(event({ type: 'identify', userId: 'u-t', anonymousId: 'anon-later' }));
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user', 'POST /user']);
    });

    it('does not look up when anonymousId equals userId', async () => {
      await h.destination.deliver(event({ type: 'identify', userId: 'same', anonymousId: 'same' }));
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /user']);
    });
  });

  describe('alias (SPEC.md §4: previousId → userId performs the merge of §2.3)', () => {
    it('merges the previous profile into the userId', async () => {
      await h.destination.deliver(event({ type: 'track', anonymousId: 'old-id', event: 'Browsed', properties: {} }));
      h.mark();
      const outcome = await h.destination.deliver(event({ type: 'alias', userId: 'new-id', previousId: 'old-id' }));
      expect(outcome.state).toBe('delivered');
      expect(h.received()).toEqual([
        { method: 'GET', path: '/user', payload: { id: 'old-id', key: 'extid', fields: { keys: 1 } } },
        { method: 'POST', path: '/user', payload: { id: 'old-id', key: 'extid', keysconflict: 'merge', keys: { extid: 'new-id' } } },
      ]);
      expect(profileByExtid('new-id')).toBeDefined();
      expect(profileByExtid('old-id')).toBeUndefined();
    });

    it('is skipped when the previous id has no profile', async () => {
      const outcome = await h.destination.deliver(event({ type: 'alias', userId: 'new-2', previousId: 'never-seen' }));
      expect(outcome).toMatchObject({ state: 'skipped', reason: 'Sailthru has no profile with extid never-seen; nothing to merge' });
      expect(h.received().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /user']);
    });

    it('fails without a request when previousId is missing', async () => {
      const outcome = await h.destination.deliver(event({ type: 'alias', userId: 'new-3' }));
      expect(outcome.state).toBe('failed');
      expect(h.received()).toEqual([]);
    });
  });
});
