import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

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

const SEED_PROPERTIES = JSON.parse(
  '{"levels":[1,2,3],"arcade":{"blips and chitz":{"planet":"Parblesnops"},"galaxy":{"coordinates":"1232.4832"},"games":["Roy: A life well lived","Whack a mole"]}}',
) as Record<string, unknown>;

describe('track → POST /event (SPEC.md §3)', () => {
  it('sends the seed "Played Game" body exactly, flattened vars in order', async () => {
    const outcome = await h.destination.deliver(
      event({ type: 'track', userId: '14092348', event: 'Played Game', properties: SEED_PROPERTIES }),
    );
    expect(outcome.state).toBe('delivered');
    const [request] = h.emulator.requests({ path: '/event' });
    expect(JSON.stringify(request?.payload)).toBe(
      '{"id":"14092348","key":"extid","event":"Played Game","vars":{"levels_0":1,"levels_1":2,"levels_2":3,"arcade_blips and chitz_planet":"Parblesnops","arcade_galaxy_coordinates":"1232.4832","arcade_games_0":"Roy: A life well lived","arcade_games_1":"Whack a mole"}}',
    );
    expect(request?.signatureValid).toBe(true);
    const state = h.emulator.state({ key: 'extid', id: '14092348' });
    expect(state.events).toHaveLength(1);
    expect(state.events[0]).toMatchObject({ event: 'Played Game', key: 'extid', id: '14092348' });
  });

  it('keys by anonymousId when there is no userId, and omits vars for empty properties', async () => {
    await h.destination.deliver(event({ type: 'track', anonymousId: 'anon-5', event: 'Cart Viewed', properties: {} }));
    expect(h.received()).toEqual([{ method: 'POST', path: '/event', payload: { id: 'anon-5', key: 'extid', event: 'Cart Viewed' } }]);
  });

  it.each(['send', 'cancel', 'open', 'click', 'purchase', 'daily'])('fails "%s" permanently without a request', async (name) => {
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'u1', event: name }));
    expect(outcome.state).toBe('failed');
    if (outcome.state === 'failed') expect(outcome.reason).toContain(`Sailthru rejects the event name "${name}"`);
    expect(outcome.calls).toEqual([]);
    expect(h.received()).toEqual([]);
  });

  it('fails a track event with no name without a request', async () => {
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'u1' }));
    expect(outcome).toMatchObject({ state: 'failed', calls: [] });
    expect(h.received()).toEqual([]);
  });
});

describe('page → page view (SPEC.md §4)', () => {
  it('posts {userIdKey, userIdValue, url, useStoredTags: true} with the customer id as bearer', async () => {
    await identifyUser(h.destination, 'u-p');
    h.mark();
    const outcome = await h.destination.deliver(event({ type: 'page', userId: 'u-p', properties: { url: 'https://shop.example/a' } }));
    expect(outcome.state).toBe('delivered');
    expect(h.received()).toEqual([
      {
        method: 'POST',
        path: '/v1/track/event/pageview',
        payload: { userIdKey: 'extid', userIdValue: 'u-p', url: 'https://shop.example/a', useStoredTags: true },
      },
    ]);
    const views = h.emulator.state().pageviews;
    expect(views).toHaveLength(1);
    expect(views[0]?.sid).not.toBeNull();
  });

  it('falls back to context.page.url, and joins keywords into tags with useStoredTags false', async () => {
    await h.destination.deliver(
      event({ type: 'page', anonymousId: 'a-p', properties: { keywords: ['shoes', 'red'] }, context: { page: { url: 'https://shop.example/b' } } }),
    );
    expect(h.received()[0]?.payload).toEqual({
      userIdKey: 'extid',
      userIdValue: 'a-p',
      url: 'https://shop.example/b',
      tags: 'shoes,red',
      useStoredTags: false,
    });
  });

  it('reads properties.tags when there are no keywords', async () => {
    await h.destination.deliver(event({ type: 'page', userId: 'u', properties: { url: 'https://x.example', tags: ['a', 'b'] } }));
    expect(h.received()[0]?.payload).toMatchObject({ tags: 'a,b', useStoredTags: false });
  });

  it('fails naming the field when there is no URL', async () => {
    const outcome = await h.destination.deliver(event({ type: 'page', userId: 'u', properties: {} }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'page has no URL: set properties.url or context.page.url', calls: [] });
    expect(h.received()).toEqual([]);
  });

  it('fails with "customerId is required for page calls" when no customer id is configured', async () => {
    const d = h.withSettings({ customerId: undefined });
    const outcome = await d.deliver(event({ type: 'page', userId: 'u', properties: { url: 'https://x.example' } }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'customerId is required for page calls', calls: [] });
    expect(h.received()).toEqual([]);
  });

  it.each(['screen', 'group'] as const)('records %s as skipped, not supported by Sailthru', async (type) => {
    const outcome = await h.destination.deliver(event({ type, userId: 'u', name: 'Home' }));
    expect(outcome).toEqual({ state: 'skipped', reason: `${type} calls are not supported by Sailthru`, calls: [], warnings: [] });
    expect(h.received()).toEqual([]);
  });
});

describe('user deletion (SPEC.md §7)', () => {
  it('a Segment delete notification sends DELETE /user {id: userId, key: extid}', async () => {
    await identifyUser(h.destination, 'gone-1', { email: 'gone1@example.com' });
    h.mark();
    const outcome = await h.destination.deliver(event({ type: 'delete', userId: 'gone-1', authenticatedBy: 'webhook-signature' }));
    expect(outcome.state).toBe('delivered');
    expect(h.received()).toEqual([{ method: 'DELETE', path: '/user', payload: { id: 'gone-1', key: 'extid' } }]);
    const state = h.emulator.state();
    expect(state.profiles).toEqual([]);
    expect(state.deletedUsers).toHaveLength(1);
    expect(state.deletedUsers[0]).toMatchObject({ reason: 'deleted', keys: { extid: 'gone-1', email: 'gone1@example.com' } });
  });

  it('a track event named "User Deleted" deletes the profile too', async () => {
    await identifyUser(h.destination, 'gone-2');
    h.mark();
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'gone-2', event: 'User Deleted', authenticatedBy: 'admin' }));
    expect(outcome.state).toBe('delivered');
    expect(h.received()).toEqual([{ method: 'DELETE', path: '/user', payload: { id: 'gone-2', key: 'extid' } }]);
    expect(h.emulator.state().profiles).toEqual([]);
  });

  it('deleting a user Sailthru does not have is skipped, not failed', async () => {
    const outcome = await h.destination.deliver(event({ type: 'delete', userId: 'never-was', authenticatedBy: 'admin' }));
    expect(outcome.state).toBe('skipped');
    expect(outcome.calls.map((c) => c.status)).toEqual([400]);
  });

  it('skips a deletion that came with a write key (or no record of its sender) unless deletionFromEvents is "write-key"', async () => {
    await identifyUser(h.destination, 'kept-1', { email: 'kept1@example.com' });
    h.mark();
    for (const authenticatedBy of ['write-key', 'webhook-unsigned-batch-member', undefined] as const) {
      const outcome = await h.destination.deliver(event({ type: 'track', userId: 'kept-1', event: 'User Deleted', ...(authenticatedBy ? { authenticatedBy } : {}) }));
      expect(outcome.state).toBe('skipped');
      expect((outcome as { reason: string }).reason).toMatch(/^deletion not honoured: the event came .*, and deletionFromEvents is "signed"/);
    }
    expect(h.received()).toEqual([]);
    expect(h.emulator.state().profiles).toHaveLength(1);
    const lenient = h.withSettings({ deletionFromEvents: 'write-key' });
    const outcome = await lenient.deliver(event({ type: 'delete', userId: 'kept-1', authenticatedBy: 'write-key' }));
    expect(outcome.state).toBe('delivered');
    expect(h.emulator.state().profiles).toEqual([]);
  });
});

describe('skip rule (SPEC.md §1)', () => {
  it('skips integrations.Sailthru: false without a request', async () => {
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'u', event: 'X', integrations: { Sailthru: false } }));
    expect(outcome).toEqual({ state: 'skipped', reason: 'integrations.Sailthru is false', calls: [], warnings: [] });
    expect(h.received()).toEqual([]);
  });

  it('skips integrations.All: false unless Sailthru is turned back on', async () => {
    const off = await h.destination.deliver(event({ type: 'track', userId: 'u', event: 'X', integrations: { All: false } }));
    expect(off.state).toBe('skipped');
    expect(h.received()).toEqual([]);
    const on = await h.destination.deliver(event({ type: 'track', userId: 'u', event: 'X', integrations: { All: false, Sailthru: true } }));
    expect(on.state).toBe('delivered');
    const withOptions = await h.destination.deliver(
      event({ type: 'track', userId: 'u', event: 'Y', integrations: { All: false, Sailthru: { sendTemplate: 't' } } }),
    );
    expect(withOptions.state).toBe('delivered');
    expect(h.received().map((r) => (r.payload as { event: string }).event)).toEqual(['X', 'Y']);
  });
});

describe('identity (SPEC.md §0)', () => {
  it('fails an event with neither userId nor anonymousId without a request', async () => {
    const outcome = await h.destination.deliver(event({ type: 'track', event: 'X' }));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'event has neither userId nor anonymousId', calls: [] });
    expect(h.received()).toEqual([]);
  });
});

describe('the emulator request log over HTTP', () => {
  it('shows the same decoded body through GET /_emulator/requests', async () => {
    await h.destination.deliver(event({ type: 'track', userId: 'u-http', event: 'Viewed Plans', properties: { tier: { name: 'pro' } } }));
    const res = await fetch(`${h.emulator.url}/_emulator/requests?path=/event`);
    const body = (await res.json()) as { requests: Array<{ method: string; payload: unknown; signatureValid: boolean }> };
    expect(body.requests.map((r) => [r.method, r.payload, r.signatureValid])).toEqual([
      ['POST', { id: 'u-http', key: 'extid', event: 'Viewed Plans', vars: { tier_name: 'pro' } }, true],
    ]);
    const state = (await (await fetch(`${h.emulator.url}/_emulator/state?key=extid&id=u-http`)).json()) as { events: Array<{ vars: unknown }> };
    expect(state.events.map((e) => e.vars)).toEqual([{ tier_name: 'pro' }]);
  });
});
