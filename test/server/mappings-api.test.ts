import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAPPINGS } from '../../src/destination/mappings/defaults.ts';
import { ADMIN_TOKEN, startAdminHarness, type AdminHarness } from './admin-fixtures.ts';

/** The mappings admin API over real HTTP, against a real SQLite store, worker and Sailthru emulator. */

const VIEWER = 'victor-viewer-token-for-tests-9z8y7x';
let h: AdminHarness;

beforeAll(async () => {
  h = await startAdminHarness({ env: { ADMIN_TOKENS: `victor:viewer:${VIEWER}` } });
});

afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, unknown>;

const CUSTOM = [
  { id: 'debug', name: 'Debug noise', enabled: true, trigger: { types: ['track'], event: { startsWith: 'Debug' } }, action: 'drop' },
  {
    id: 'big-orders',
    name: 'Big orders',
    enabled: true,
    trigger: { types: ['track'], event: { equals: 'Order Placed' }, conditions: [{ path: 'properties.total', op: '>', value: 100 }] },
    action: 'custom-event',
    fields: { eventName: { fixed: 'Big Order' }, vars: { deny: ['phone'] } },
  },
  { id: 'rest', name: 'Everything else', enabled: true, trigger: { types: ['track'] }, action: 'custom-event' },
];

async function deliver(event: Json): Promise<Json> {
  const res = await h.api('POST', '/api/test-events', { event: { userId: 'map-user', ...event } });
  expect(res.status, res.text).toBe(200);
  return res.json.event as Json;
}

describe('mappings admin API', () => {
  it('shows the defaults while none are configured', async () => {
    const res = await h.api('GET', '/api/destinations/default/mappings');
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ destinationId: 'default', configured: false, mappings: JSON.parse(JSON.stringify(DEFAULT_MAPPINGS)) });
    const catalog = await h.api('GET', '/api/mappings/catalog');
    expect((catalog.json.actions as Json[]).map((a) => a.id)).toContain('list-subscribe');
  });

  it('refuses an invalid list naming each field, and changes nothing', async () => {
    const bad = [{ ...CUSTOM[1], trigger: { types: ['track'], conditions: [{ path: 'properties.total', op: 'more' }] } }, { ...CUSTOM[2], action: 'fax' }];
    const res = await h.api('PUT', '/api/destinations/default/mappings', { mappings: bad });
    expect(res.status, res.text).toBe(400);
    expect(res.json.code).toBe('ADMIN_INVALID_INPUT');
    expect(res.json.problems).toEqual(
      expect.arrayContaining([
        'mappings[0].trigger.conditions[0].op: must be one of exists, not exists, =, !=, >, >=, <, <=, contains, is array',
        expect.stringMatching(/^mappings\[1\]\.action: must be one of profile-update, /),
      ]),
    );
    expect((await h.api('GET', '/api/destinations/default/mappings')).json.configured).toBe(false);
    expect((await h.api('PUT', '/api/destinations/default/mappings', {})).status).toBe(400);
    expect((await h.api('PUT', '/api/destinations/nope/mappings', { mappings: [] })).status).toBe(404);
  });

  it('replaces the list (new version, audited), delivers by it, and counts per mapping', async () => {
    const before = (await h.api('GET', '/api/destinations/default/mappings')).json.version as number;
    const res = await h.api('PUT', '/api/destinations/default/mappings', { mappings: CUSTOM });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ configured: true, mappings: CUSTOM });
    expect(res.json.version).toBeGreaterThan(before);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the registry's refreshMs, as above
    const audit = await h.api('GET', '/api/audit?action=mappings.update');
    expect((audit.json.entries as Json[])[0]).toMatchObject({ action: 'mappings.update', actor: 'admin', target: 'default', detail: expect.stringContaining('3 mappings') });

    expect(await deliver({ type: 'track', event: 'Debug Ping' })).toMatchObject({ state: 'skipped', reason: 'dropped by mapping "Debug noise"' });
    await deliver({ type: 'track', event: 'Order Placed', properties: { total: 500, phone: '+1-555-0199' } });
    await deliver({ type: 'track', event: 'Order Placed', properties: { total: 5 } });
    expect(await deliver({ type: 'identify', traits: { email: 'm@example.com' } })).toMatchObject({ state: 'skipped', reason: 'no mapping matches' });
    const events = h.emulator.requests({ path: '/event' }).map((r) => r.payload as Json);
    expect(events.map((e) => e.event)).toEqual(['Big Order', 'Order Placed']);
    expect(JSON.stringify(events)).not.toContain('555-0199');

    const stats = await h.api('GET', '/api/destinations/default/mappings/stats');
    expect(stats.status, stats.text).toBe(200);
    const hour = stats.json.lastHour as Json[];
    expect(hour).toEqual([
      { id: 'debug', name: 'Debug noise', matched: 1, calls: 0 },
      { id: 'big-orders', name: 'Big orders', matched: 1, calls: 1 },
      { id: 'rest', name: 'Everything else', matched: 1, calls: 1 },
      { id: '(no match)', name: 'no mapping matched', matched: 1, calls: 0 },
    ]);
    expect(stats.json.lastDay).toEqual(hour);
  });

  it('switches one mapping off (audited), and the event falls through to the next', async () => {
    const res = await h.api('PATCH', '/api/destinations/default/mappings/big-orders', { enabled: false });
    expect(res.status, res.text).toBe(200);
    expect((res.json.mappings as Json[])[1]).toMatchObject({ id: 'big-orders', enabled: false });
    const audit = await h.api('GET', '/api/audit?action=mappings.update');
    expect((audit.json.entries as Json[])[0]).toMatchObject({ detail: 'mapping "Big orders" (big-orders) disabled' });
    h.emulator.reset();
    // A built destination looks at its row again after refreshMs (1 s): then it has the new version.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await deliver({ type: 'track', event: 'Order Placed', properties: { total: 500 } });
    expect(h.emulator.requests({ path: '/event' }).map((r) => (r.payload as Json).event)).toEqual(['Order Placed']);
    expect((await h.api('PATCH', '/api/destinations/default/mappings/none', { enabled: true })).status).toBe(404);
    expect((await h.api('PATCH', '/api/destinations/default/mappings/rest', { enabled: 'yes' })).status).toBe(400);
  });

  it('tests an event without sending anything: the mapping taken, why the others were not, the calls', async () => {
    h.emulator.reset();
    const res = await h.api('POST', '/api/destinations/default/mappings/test', {
      event: { type: 'track', userId: 'tester', event: 'Order Placed', properties: { total: 500, phone: '1' } },
      mappings: CUSTOM,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      matched: { id: 'big-orders', name: 'Big orders', index: 1, action: 'custom-event' },
      tried: [
        { id: 'debug', matched: false, why: 'event name "Order Placed" is not starting with "Debug"' },
        { id: 'big-orders', matched: true },
      ],
      state: 'delivered',
      calls: [{ method: 'POST', endpoint: '/event', payload: { id: 'tester', key: 'extid', event: 'Big Order', vars: { total: 500 } } }],
    });
    // The saved list (big-orders now off) is used without `mappings`.
    const saved = await h.api('POST', '/api/destinations/default/mappings/test', { event: { type: 'track', userId: 'tester', event: 'Order Placed', properties: { total: 500 } } });
    expect(saved.json.matched).toMatchObject({ id: 'rest' });
    expect(h.emulator.requests({})).toEqual([]);
  });

  it('lets a viewer read but not change or test', async () => {
    expect((await h.api('GET', '/api/destinations/default/mappings', undefined, VIEWER)).status).toBe(200);
    expect((await h.api('GET', '/api/destinations/default/mappings/stats', undefined, VIEWER)).status).toBe(200);
    const put = await h.api('PUT', '/api/destinations/default/mappings', { mappings: [] }, VIEWER);
    expect(put.status).toBe(403);
    expect(put.json.code).toBe('ADMIN_VIEWER_READ_ONLY');
    expect((await h.api('PATCH', '/api/destinations/default/mappings/rest', { enabled: false }, VIEWER)).status).toBe(403);
  });

  it('goes back to the defaults with null', async () => {
    const res = await h.api('PUT', '/api/destinations/default/mappings', { mappings: null }, ADMIN_TOKEN);
    expect(res.status, res.text).toBe(200);
    expect(res.json.configured).toBe(false);
    const audit = await h.api('GET', '/api/audit?action=mappings.update');
    expect((audit.json.entries as Json[])[0]).toMatchObject({ detail: 'mappings reset to the defaults' });
  });
});
