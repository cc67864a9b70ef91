import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/server/error-codes.ts';
import { ADMIN_TOKEN, API_KEY, SHARED_SECRET, WRITE_KEY, secretsIn, startAdminHarness, type AdminHarness } from './admin-fixtures.ts';

/** The admin JSON API over real HTTP, against a real SQLite store, worker and Sailthru emulator. */

let h: AdminHarness;

beforeAll(async () => {
  h = await startAdminHarness();
});

afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, unknown>;
const obj = (v: unknown) => v as Json;
const list = (v: unknown) => v as Json[];

async function sendTest(event: Json, extra: Json = {}) {
  const res = await h.api('POST', '/api/test-events', { event, ...extra });
  expect(res.status, res.text).toBe(200);
  return obj(res.json.event);
}

async function basicPost(path: string, key: string, body: unknown) {
  const res = await fetch(h.url + path, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.status;
}

describe('authentication', () => {
  it('refuses requests without a token, or with a wrong one, with a JSON 401', async () => {
    for (const [path, method] of [
      ['/api/overview', 'GET'],
      ['/api/destinations', 'POST'],
      ['/api/deadletters/retry', 'POST'],
      ['/api/events/1', 'GET'],
    ] as const) {
      const none = await h.api(method, path, method === 'POST' ? {} : undefined, null);
      expect(none.status).toBe(401);
      expect(none.json.error).toMatch(/Bearer/);
      const wrong = await h.api(method, path, method === 'POST' ? {} : undefined, 'not-the-token');
      expect(wrong.status).toBe(401);
      expect(wrong.json.error).toBe('Wrong admin token');
    }
  });

  it('answers every /api and console route 403 while no ADMIN_TOKEN is configured', async () => {
    const closed = await startAdminHarness({ adminToken: null });
    try {
      const api = await closed.api('GET', '/api/overview', undefined, 'anything');
      expect(api.status).toBe(403);
      expect(api.json.error).toBe('set ADMIN_TOKEN to open the console');
      for (const path of ['/', '/sign-in', '/destinations', '/events']) {
        const page = await fetch(closed.url + path, { redirect: 'manual' });
        expect(page.status).toBe(403);
        expect(await page.text()).toContain('ADMIN_TOKEN');
      }
    } finally {
      await closed.stop();
    }
  });
});

describe('destinations', () => {
  it('lists the declared destination with the secret masked and its backlog', async () => {
    const res = await h.api('GET', '/api/destinations');
    expect(res.status).toBe(200);
    const [d] = list(res.json.destinations);
    expect(d).toMatchObject({ id: 'default', declared: true, paused: false, settingsProblems: [] });
    expect(obj(d!.settings)).toMatchObject({ apiKey: API_KEY, sharedSecret: `••••${SHARED_SECRET.slice(-2)}`, optoutValue: 'none' });
    expect(obj(d!.backlog)).toMatchObject({ unsettled: expect.any(Number), failed: expect.any(Number) });
  });

  it('refuses invalid settings with one message per field', async () => {
    const res = await h.api('POST', '/api/destinations', {
      name: 'Broken',
      settings: { optoutValue: 'sometimes', reminderTime: 'tomorrow-ish', cartExpiryHours: -3, productBaseUrl: 'ftp://x', colour: 'blue' },
    });
    expect(res.status).toBe(400);
    const problems = res.json.problems as string[];
    for (const field of ['apiKey', 'sharedSecret', 'optoutValue', 'reminderTime', 'cartExpiryHours', 'productBaseUrl', 'colour']) {
      expect(problems.some((p) => p.startsWith(`${field} `)), `${field} in ${problems.join(' | ')}`).toBe(true);
    }
    const noName = await h.api('POST', '/api/destinations', { settings: { apiKey: 'a', sharedSecret: 'b' } });
    expect(noName.status).toBe(400);
    expect(noName.json.problems).toEqual([expect.stringMatching(/^name is required/)]);
    const badId = await h.api('POST', '/api/destinations', { id: 'has space', name: 'x', settings: { apiKey: 'a', sharedSecret: 'b' } });
    expect(badId.json.problems).toEqual([expect.stringMatching(/^id must be/)]);
  });

  it('creates, reads, patches (keeping the secret), and deletes a destination', async () => {
    const created = await h.api('POST', '/api/destinations', {
      id: 'staging',
      name: 'Staging',
      settings: { apiKey: API_KEY, sharedSecret: SHARED_SECRET, apiUrl: h.emulator.url, trackUrl: h.emulator.url, defaultListName: 'Everyone' },
    });
    expect(created.status, created.text).toBe(201);
    expect(obj(created.json.destination)).toMatchObject({ id: 'staging', name: 'Staging', version: 1, declared: false });
    expect(obj(obj(created.json.destination).settings).sharedSecret).toBe(`••••${SHARED_SECRET.slice(-2)}`);

    const again = await h.api('POST', '/api/destinations', { id: 'staging', name: 'Again', settings: { apiKey: 'a', sharedSecret: 'b' } });
    expect(again.status).toBe(409);

    const patched = await h.api('PATCH', '/api/destinations/staging', { name: 'Staging EU', settings: { defaultListName: 'Newsletter', customerId: null } });
    expect(patched.status, patched.text).toBe(200);
    const d = obj(patched.json.destination);
    expect(d).toMatchObject({ name: 'Staging EU', version: 2 });
    expect(obj(d.settings)).toMatchObject({ defaultListName: 'Newsletter', apiKey: API_KEY });
    // The secret was kept: a connection test with the stored settings still passes.
    const test = await h.api('POST', '/api/destinations/staging/test-connection', {});
    expect(test.json).toMatchObject({ ok: true, verdict: 'ok' });
    const stored = await h.service.store.getDestination('staging');
    expect(stored?.settings.sharedSecret).toBe(SHARED_SECRET);

    const clear = await h.api('PATCH', '/api/destinations/staging', { settings: { defaultListName: null } });
    expect(obj(obj(clear.json.destination).settings).defaultListName).toBeUndefined();

    const invalid = await h.api('PATCH', '/api/destinations/staging', { settings: { reminderTime: 'soon', apiKey: '' } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^reminderTime /), expect.stringMatching(/^apiKey is required/)]));

    const one = await h.api('GET', '/api/destinations/staging');
    expect(obj(one.json.destination).name).toBe('Staging EU');

    expect((await h.api('DELETE', '/api/destinations/staging')).json).toEqual({ deleted: true });
    expect((await h.api('GET', '/api/destinations/staging')).status).toBe(404);
    expect((await h.api('DELETE', '/api/destinations/staging')).status).toBe(404);
    expect((await h.api('PATCH', '/api/destinations/nope', { name: 'x' })).status).toBe(404);
  });

  it('pauses with a reason, resumes, and a settings change resumes a paused destination', async () => {
    await h.api('POST', '/api/destinations', { id: 'pausable', name: 'P', settings: { apiKey: API_KEY, sharedSecret: SHARED_SECRET, apiUrl: h.emulator.url } });
    const paused = await h.api('POST', '/api/destinations/pausable/pause', { reason: 'maintenance window' });
    expect(obj(paused.json.destination)).toMatchObject({ paused: true, pauseReason: 'maintenance window' });
    const overview = await h.api('GET', '/api/overview');
    expect(list(overview.json.destinations).find((d) => d.id === 'pausable')).toMatchObject({ paused: true, pauseReason: 'maintenance window' });
    const resumed = await h.api('POST', '/api/destinations/pausable/resume');
    expect(obj(resumed.json.destination)).toMatchObject({ paused: false, pauseReason: null });
    await h.api('POST', '/api/destinations/pausable/pause', {});
    expect(obj((await h.api('GET', '/api/destinations/pausable')).json.destination).pauseReason).toBe('paused by an operator');
    const changed = await h.api('PATCH', '/api/destinations/pausable', { settings: { defaultListName: 'L' } });
    expect(obj(changed.json.destination).paused).toBe(false);
    await h.api('DELETE', '/api/destinations/pausable');
  });
});

describe('test connection', () => {
  async function verdictWith(settings: Json) {
    const res = await h.api('POST', '/api/destinations/default/test-connection', { settings });
    expect(res.status, res.text).toBe(200);
    return res.json;
  }

  it('says OK when the key and secret are accepted', async () => {
    const ok = await verdictWith({});
    expect(ok).toMatchObject({ ok: true, verdict: 'ok', call: { method: 'GET', endpoint: '/user' } });
    expect(ok.message).toMatch(/accepted/);
  });

  it('names a bad key, a bad secret and an unreachable host', async () => {
    const badKey = await verdictWith({ apiKey: 'no-such-key' });
    expect(badKey).toMatchObject({ ok: false, verdict: 'bad-key', call: { errorCode: 3 } });
    expect(badKey.message).toMatch(/API key/);

    const badSecret = await verdictWith({ sharedSecret: 'the-wrong-secret-entirely' });
    expect(badSecret).toMatchObject({ ok: false, verdict: 'bad-secret', call: { errorCode: 5 } });
    expect(badSecret.message).toMatch(/shared secret/);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = await verdictWith({ apiUrl: `http://127.0.0.1:${port}` });
    expect(unreachable).toMatchObject({ ok: false, verdict: 'unreachable', host: `127.0.0.1:${port}` });
    expect(unreachable.message).toContain(`127.0.0.1:${port}`);
  });

  it('names a refused IP address (error 4)', async () => {
    const stub: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 4, errormsg: 'Your IP address is not allowed to use this API key' }));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    try {
      const port = (stub.address() as AddressInfo).port;
      const res = await verdictWith({ apiUrl: `http://127.0.0.1:${port}` });
      expect(res).toMatchObject({ ok: false, verdict: 'ip-not-allowed' });
      expect(res.message).toMatch(/IP/);
    } finally {
      await new Promise<void>((r) => stub.close(() => r()));
    }
  });

  it('refuses to test settings that do not validate', async () => {
    const res = await h.api('POST', '/api/destinations/default/test-connection', { settings: { apiUrl: 'not a url' } });
    expect(res.status).toBe(400);
    expect(res.json.problems).toEqual([expect.stringMatching(/^apiUrl must be an http\(s\) URL/)]);
    expect((await h.api('POST', '/api/destinations/missing/test-connection', {})).status).toBe(404);
  });
});

describe('write keys', () => {
  it('shows a new key once, lists records only, and revoking it closes ingest', async () => {
    const created = await h.api('POST', '/api/destinations/default/write-keys', { label: 'web app' });
    expect(created.status).toBe(201);
    const key = created.json.key as string;
    expect(key.length).toBeGreaterThanOrEqual(20);
    const record = obj(created.json.writeKey);
    expect(record).toMatchObject({ destinationId: 'default', label: 'web app', revokedAt: null });

    const listed = await h.api('GET', '/api/destinations/default/write-keys');
    expect(list(listed.json.writeKeys).map((k) => k.label)).toEqual(expect.arrayContaining(['web app']));
    expect(listed.text).not.toContain(key);

    const event = { userId: 'wk-user', event: 'Key Tried', messageId: `wk-${Date.now()}` };
    expect(await basicPost('/v1/track', key, event)).toBe(200);
    const revoked = await h.api('DELETE', `/api/write-keys/${String(record.id)}`);
    expect(obj(revoked.json.writeKey).revokedAt).toEqual(expect.any(String));
    expect(await basicPost('/v1/track', key, { ...event, messageId: `${event.messageId}-2` })).toBe(401);
    expect((await h.api('DELETE', `/api/write-keys/${String(record.id)}`)).status).toBe(409);
    expect((await h.api('DELETE', '/api/write-keys/unknown-id')).status).toBe(404);
    expect((await h.api('GET', '/api/destinations/nope/write-keys')).status).toBe(404);
  });
});

describe('event tester and delivery log', () => {
  it('normalises, delivers and answers the event with its Sailthru calls', async () => {
    const e = await sendTest({ type: 'identify', userId: 'tester-1', traits: { email: 'tester-1@example.com', plan: 'pro' } });
    expect(e).toMatchObject({ type: 'identify', userId: 'tester-1', state: 'delivered', attempts: 1 });
    expect(String(e.messageId)).toMatch(/^ingest-/);
    const [attempt] = list(e.attemptLog);
    const [call] = list(attempt!.calls);
    expect(call).toMatchObject({ method: 'POST', endpoint: '/user', status: 200 });
    expect(obj(call!.payload)).toMatchObject({ id: 'tester-1', key: 'extid', keys: { email: 'tester-1@example.com' }, vars: { plan: 'pro' } });
    expect(call!.response).toBeDefined();
    expect(h.emulator.state({ key: 'extid', id: 'tester-1' }).profiles).toHaveLength(1);
  });

  it('refuses what ingest would refuse, with the reason', async () => {
    const noId = await h.api('POST', '/api/test-events', { event: { type: 'track', event: 'X' } });
    expect(noId.status).toBe(400);
    expect(noId.json.error).toMatch(/userId|anonymousId/);
    const notObject = await h.api('POST', '/api/test-events', { event: [1, 2] });
    expect(notObject.status).toBe(400);
    const unknownDestination = await h.api('POST', '/api/test-events', { destination: 'nope', event: { type: 'track', userId: 'u', event: 'X' } });
    expect(unknownDestination.status).toBe(404);
  });

  it('answers the earlier event for a repeated messageId', async () => {
    const first = await sendTest({ type: 'track', userId: 'dup-user', event: 'Once', messageId: 'dup-message-1' });
    const res = await h.api('POST', '/api/test-events', { event: { type: 'track', userId: 'dup-user', event: 'Once', messageId: 'dup-message-1' } });
    expect(res.json.duplicate).toBe(true);
    expect(obj(res.json.event).id).toBe(first.id);
  });

  it('searches by userId, messageId, event, state, type, destination and time, newest first, with paging', async () => {
    const a = await sendTest({ type: 'track', userId: 'search-user', event: 'Alpha Seen' });
    const b = await sendTest({ type: 'track', userId: 'search-user', event: 'Beta Seen' });
    const c = await sendTest({ type: 'page', userId: 'search-user', name: 'Home', properties: { url: 'https://example.com/' } });

    const byUser = await h.api('GET', '/api/events?userId=search-user');
    expect(list(byUser.json.events).map((e) => e.id)).toEqual([c.id, b.id, a.id]);
    const byEvent = await h.api('GET', '/api/events?userId=search-user&event=Beta%20Seen');
    expect(list(byEvent.json.events).map((e) => e.id)).toEqual([b.id]);
    const byMessage = await h.api('GET', `/api/events?messageId=${encodeURIComponent(String(a.messageId))}`);
    expect(list(byMessage.json.events).map((e) => e.id)).toEqual([a.id]);
    const byType = await h.api('GET', '/api/events?userId=search-user&type=page&state=delivered&destination=default');
    expect(list(byType.json.events).map((e) => e.id)).toEqual([c.id]);
    const none = await h.api('GET', '/api/events?userId=search-user&destination=other');
    expect(none.json.events).toEqual([]);
    const future = await h.api('GET', `/api/events?userId=search-user&from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.json.events).toEqual([]);
    const past = await h.api('GET', `/api/events?userId=search-user&to=${encodeURIComponent(String(a.receivedAt))}`);
    expect(past.json.events).toEqual([]);

    const page1 = await h.api('GET', '/api/events?userId=search-user&limit=2');
    expect(list(page1.json.events).map((e) => e.id)).toEqual([c.id, b.id]);
    const page2 = await h.api('GET', `/api/events?userId=search-user&limit=2&before=${String(page1.json.nextBefore)}`);
    expect(list(page2.json.events).map((e) => e.id)).toEqual([a.id]);
    expect(page2.json.nextBefore).toBeNull();
  });

  it('says which search field is wrong', async () => {
    const res = await h.api('GET', '/api/events?state=lost&limit=9999&from=yesterday');
    expect(res.status).toBe(400);
    const problems = res.json.problems as string[];
    expect(problems).toEqual([expect.stringMatching(/^from must be a time/), expect.stringMatching(/^state must be one of pending, retrying/), expect.stringMatching(/^limit must be/)]);
  });

  it('shows one event with payload, outcome and attempts; 404 and 400 otherwise', async () => {
    const e = await sendTest({ type: 'track', userId: 'detail-user', event: 'Detail Seen', properties: { nested: { a: 1 } } });
    const res = await h.api('GET', `/api/events/${String(e.id)}`);
    const event = obj(res.json.event);
    expect(obj(event.payload)).toMatchObject({ type: 'track', event: 'Detail Seen', properties: { nested: { a: 1 } } });
    expect(obj(event.outcome)).toMatchObject({ state: 'delivered' });
    const call = list(list(event.attemptLog)[0]!.calls)[0]!;
    expect(call).toMatchObject({ method: 'POST', endpoint: '/event', status: 200 });
    expect(obj(call.payload)).toMatchObject({ event: 'Detail Seen', vars: { nested_a: 1 } });
    expect(res.text).not.toMatch(/"sig"|api_key/);
    expect((await h.api('GET', '/api/events/999999999')).status).toBe(404);
    expect((await h.api('GET', '/api/events/abc')).status).toBe(400);
  });
});

describe('dead letters', () => {
  async function deadLetter(userId: string): Promise<number> {
    const e = await sendTest({ type: 'track', userId, event: 'purchase' });
    expect(e.state).toBe('failed');
    return e.id as number;
  }

  it('retries and drops one dead letter, and refuses events that are not dead letters', async () => {
    const id = await deadLetter('dl-one');
    const retried = await h.api('POST', `/api/events/${id}/retry`);
    expect(retried.json).toEqual({ retried: 1 });
    // A reserved name fails again on its next attempt: a dead letter once more.
    await h.until(async () => ((await h.api('GET', `/api/events/${id}`)).json.event as Json).state === 'failed' || undefined, 'the retried event to fail again');
    const detail = obj((await h.api('GET', `/api/events/${id}`)).json.event);
    expect(detail.attemptLog).toHaveLength(2);
    expect((await h.api('POST', `/api/events/${id}/drop`)).json).toEqual({ dropped: 1 });
    // Dropped, not erased: still in the log, final, naming who dropped it and when.
    const dropped = obj((await h.api('GET', `/api/events/${id}`)).json.event);
    expect(dropped).toMatchObject({ state: 'dropped', droppedBy: 'admin', droppedAt: expect.any(String) });
    expect(dropped.attemptLog).toHaveLength(2);
    expect((await h.api('POST', `/api/events/${id}/drop`)).status).toBe(409);

    const delivered = await sendTest({ type: 'track', userId: 'dl-one', event: 'Fine' });
    const refused = await h.api('POST', `/api/events/${String(delivered.id)}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatch(/delivered/);
  });

  it('retries and drops by ids and by filter', async () => {
    const a = await deadLetter('dl-filter-a');
    const b = await deadLetter('dl-filter-b');
    const c = await deadLetter('dl-filter-b');
    const byIds = await h.api('POST', '/api/deadletters/retry', { ids: [a] });
    expect(byIds.json).toEqual({ retried: 1 });
    await h.until(async () => ((await h.api('GET', `/api/events/${a}`)).json.event as Json).state === 'failed' || undefined, 'a to fail again');
    const byFilter = await h.api('POST', '/api/deadletters/drop', { filter: { userId: 'dl-filter-b', event: 'purchase', destination: 'default' } });
    expect(byFilter.json).toEqual({ dropped: 2 });
    for (const dropped of [b, c]) expect(obj((await h.api('GET', `/api/events/${dropped}`)).json.event).state).toBe('dropped');
    const retryFilter = await h.api('POST', '/api/deadletters/retry', { filter: { userId: 'dl-filter-a' } });
    expect(retryFilter.json).toEqual({ retried: 1 });
  });

  it('says what a selector must look like', async () => {
    expect((await h.api('POST', '/api/deadletters/retry', {})).json.error).toMatch(/ids.*filter/);
    expect((await h.api('POST', '/api/deadletters/retry', { ids: ['x'] })).status).toBe(400);
    expect((await h.api('POST', '/api/deadletters/drop', { ids: [1], filter: {} })).status).toBe(400);
    expect((await h.api('POST', '/api/deadletters/drop', { filter: { from: 'last week' } })).json.problems).toEqual([expect.stringMatching(/^from must be a time/)]);
  });
});

describe('user deletion', () => {
  it('queues a delete behind the user’s events and Sailthru deletes the profile', async () => {
    await sendTest({ type: 'identify', userId: 'to-delete', traits: { email: 'to-delete@example.com' } });
    const res = await h.api('POST', '/api/users/to-delete/delete', {});
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ eventId: expect.any(Number), messageId: expect.any(String), destinationId: 'default' });
    const event = await h.until(async () => {
      const e = obj((await h.api('GET', `/api/events/${String(res.json.eventId)}`)).json.event);
      return e.state === 'delivered' ? e : undefined;
    }, 'the deletion to be delivered');
    expect(event.type).toBe('delete');
    expect(h.emulator.state().deletedUsers.some((d) => d.keys.extid === 'to-delete' && d.reason === 'deleted')).toBe(true);
  });

  it('needs a destination when there are several', async () => {
    await h.api('POST', '/api/destinations', { id: 'second', name: 'Second', settings: { apiKey: 'k', sharedSecret: 's', apiUrl: h.emulator.url } });
    const res = await h.api('POST', '/api/users/someone/delete', {});
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^destination is required/);
    const ok = await h.api('POST', '/api/users/someone/delete', { destination: 'second' });
    expect(ok.json.destinationId).toBe('second');
    await h.api('DELETE', '/api/destinations/second');
  });
});

describe('overview and series', () => {
  it('reports deliveries, calls by endpoint with rate-limit use, and latency', async () => {
    await sendTest({ type: 'identify', userId: 'series-user', traits: { email: 'series@example.com' } });
    const series = await h.until(async () => {
      const s = (await h.api('GET', '/api/series?minutes=60')).json;
      const points = list(s.points);
      return points.some((p) => (p.delivered as number) > 0) ? s : undefined;
    }, 'a series point with deliveries');
    const points = list(series.points);
    expect(points.reduce((n, p) => n + (p.eventsIn as number), 0)).toBeGreaterThan(0);
    const withCalls = points.find((p) => obj(p.calls)['POST /user'] !== undefined)!;
    expect(obj(withCalls.rateLimitUse)['POST /user']).toBeGreaterThan(0);
    expect(points.some((p) => typeof p.latencyP50Ms === 'number' && typeof p.latencyP95Ms === 'number')).toBe(true);
    const endpoint = list(series.endpoints).find((e) => e.endpoint === 'POST /user')!;
    expect(endpoint).toMatchObject({ limitPerSecond: 300 });
    expect(series.scope).toBe('store');

    const overview = (await h.api('GET', '/api/overview')).json;
    expect(obj(overview.totals)).toMatchObject({ destinations: 1, paused: 0 });
    expect(obj(overview.totals).deadLetters).toBeGreaterThanOrEqual(1);
    expect(list(obj(overview.series).points).length).toBeGreaterThan(0);
    expect((await h.api('GET', '/api/series?minutes=0')).status).toBe(400);
  });

  it('lists the sample events', async () => {
    const res = await h.api('GET', '/api/sample-events');
    expect(list(res.json.samples).map((s) => s.id)).toEqual(expect.arrayContaining(['identify', 'track', 'page', 'order-completed', 'product-added', 'product-removed', 'delete']));
  });
});

describe('secrets', () => {
  it('redacts a known secret even where it would otherwise appear (an event carrying it)', async () => {
    const e = await sendTest({ type: 'track', userId: 'leaky', event: 'Pasted Secret', properties: { note: SHARED_SECRET } });
    expect(JSON.stringify(e)).toContain('[redacted]');
  });

  it('never sent the shared secret, the admin token or a declared write key in any response', () => {
    expect(h.seen.length).toBeGreaterThan(50);
    const leaks = h.seen.flatMap((text, i) => secretsIn(text).map((s) => `response ${i} contains ${s.slice(0, 4)}…`));
    expect(leaks).toEqual([]);
    expect([ADMIN_TOKEN, WRITE_KEY].every((s) => s.length > 10)).toBe(true);
  });
});

describe('error codes', () => {
  it('every error answer carries a stable ADMIN_ code whose listed status is the answer\'s', async () => {
    const cases: Array<[string, string, unknown, string | null, string]> = [
      ['GET', '/api/destinations', undefined, null, 'ADMIN_MISSING_TOKEN'],
      ['GET', '/api/destinations', undefined, 'not-the-token', 'ADMIN_WRONG_TOKEN'],
      ['GET', '/api/destinations/nope', undefined, ADMIN_TOKEN, 'ADMIN_NOT_FOUND'],
      ['GET', '/api/no-such-route', undefined, ADMIN_TOKEN, 'ADMIN_NOT_FOUND'],
      ['POST', '/api/destinations', { id: 'default', name: 'x', settings: {} }, ADMIN_TOKEN, 'ADMIN_INVALID_INPUT'],
      ['GET', '/api/events/abc', undefined, ADMIN_TOKEN, 'ADMIN_INVALID_INPUT'],
      ['GET', '/api/overview?minutes=0', undefined, ADMIN_TOKEN, 'ADMIN_INVALID_INPUT'],
    ];
    for (const [method, path, body, token, code] of cases) {
      const answer = await h.api(method, path, body, token);
      expect(answer.json.code, `${method} ${path}`).toBe(code);
      expect(answer.status, `${method} ${path}`).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES].status);
      expect(typeof answer.json.error).toBe('string');
    }
    const badJson = await fetch(`${h.url}/api/destinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { code: string }).code).toBe('ADMIN_INVALID_REQUEST');
    const taken = await h.api('POST', '/api/destinations', { id: 'default', name: 'Again', settings: { apiKey: API_KEY, sharedSecret: SHARED_SECRET } });
    expect([taken.status, taken.json.code]).toEqual([409, 'ADMIN_ALREADY_EXISTS']);
  });
});
