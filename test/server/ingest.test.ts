import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { OTHER_KEY, WEBHOOK_SECRET, WRITE_KEY, basic, buildIngestApp, type TestServer } from './ingest-fixtures.ts';

let server: TestServer | undefined;

afterEach(async () => {
  await server?.app.close();
  server = undefined;
});

async function start(...args: Parameters<typeof buildIngestApp>): Promise<TestServer> {
  server = await buildIngestApp(...args);
  return server;
}

interface PostOptions {
  auth?: string;
  contentType?: string | null;
  headers?: Record<string, string>;
}

async function post(app: FastifyInstance, url: string, body: unknown, options: PostOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.auth !== undefined) headers.authorization = options.auth;
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await app.inject({ method: 'POST', url, headers, payload });
  return { status: response.statusCode, headers: response.headers, text: response.body, json: () => response.json() as Record<string, unknown> };
}

/** An error answer: `error` as before, `code` and `message` for the SDKs that read them. */
const refusal = (code: string, message: string) => ({ success: false, error: message, code, message });

const hmac = (text: string, secret = WEBHOOK_SECRET) => createHmac('sha1', secret).update(text).digest('hex');

const identify = { type: 'identify', userId: 'user-1', messageId: 'msg-identify', traits: { email: 'ann@example.com' } };
const track = { type: 'track', userId: 'user-1', event: 'Product Added', messageId: 'msg-track', properties: { sku: 'A-1' } };

describe('POST /v1/batch', () => {
  it('stores a batch and answers 200 {"success": true} once the sink resolved', async () => {
    const { app, sink } = await start();
    const response = await post(
      app,
      '/v1/batch',
      { batch: [identify, track], context: { library: { name: 'analytics-python', version: '2.3' } }, sentAt: '2026-03-01T12:00:00.000Z' },
      { auth: basic(WRITE_KEY) },
    );
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ success: true });
    expect(sink.batches).toHaveLength(1);
    const [stored] = sink.batches;
    expect(stored?.destinationId).toBe('dest-main');
    expect(stored?.receivedAt.toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(stored?.accepted.map((event) => [event.type, event.messageId, event.context])).toEqual([
      ['identify', 'msg-identify', { library: { name: 'analytics-python', version: '2.3' } }],
      ['track', 'msg-track', { library: { name: 'analytics-python', version: '2.3' } }],
    ]);
    expect(stored?.rejected).toEqual([]);
  });

  it('lists refused events with index, messageId and reason, and passes them to the sink', async () => {
    const { app, sink } = await start();
    const response = await post(
      app,
      '/v1/batch',
      { batch: [track, { type: 'track', anonymousId: 'anon-1', messageId: 'msg-no-event' }, { type: 'page', event: 'x' }, identify] },
      { auth: basic(WRITE_KEY) },
    );
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      success: true,
      rejected: [
        { index: 1, messageId: 'msg-no-event', reason: 'a track event needs an event name (the "event" field)' },
        { index: 2, messageId: null, reason: 'the event has neither userId nor anonymousId' },
      ],
    });
    expect(sink.accepted.map((event) => event.messageId)).toEqual(['msg-track', 'msg-identify']);
    expect(sink.rejected).toEqual([
      {
        index: 1,
        messageId: 'msg-no-event',
        reason: 'a track event needs an event name (the "event" field)',
        payload: { type: 'track', anonymousId: 'anon-1', messageId: 'msg-no-event' },
      },
      { index: 2, messageId: null, reason: 'the event has neither userId nor anonymousId', payload: { type: 'page', event: 'x' } },
    ]);
  });

  it('records a batch whose events were all refused, and does not call the sink for an empty batch', async () => {
    const { app, sink } = await start();
    const refused = await post(app, '/v1/batch', { batch: [{ type: 'track', userId: 'u' }] }, { auth: basic(WRITE_KEY) });
    expect(refused.status).toBe(200);
    expect(sink.batches).toHaveLength(1);
    expect(sink.batches[0]?.accepted).toEqual([]);
    expect(sink.batches[0]?.rejected).toHaveLength(1);
    const empty = await post(app, '/v1/batch', { batch: [] }, { auth: basic(WRITE_KEY) });
    expect(empty.status).toBe(200);
    expect(empty.json()).toEqual({ success: true });
    expect(sink.batches).toHaveLength(1);
  });

  it('generates a messageId when an event has none', async () => {
    const { app, sink } = await start();
    await post(app, '/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'E' }] }, { auth: basic(WRITE_KEY) });
    expect(sink.accepted[0]?.messageId).toMatch(/^ingest-[0-9a-f-]{36}$/);
  });

  it('turns numeric userId and anonymousId into strings', async () => {
    const { app, sink } = await start();
    const response = await post(
      app,
      '/v1/batch',
      { batch: [{ type: 'identify', userId: 42 }, { type: 'track', anonymousId: 7, event: 'E' }] },
      { auth: basic(WRITE_KEY) },
    );
    expect(response.json()).toEqual({ success: true });
    expect(sink.accepted.map((event) => [event.userId, event.anonymousId])).toEqual([
      ['42', undefined],
      [undefined, '7'],
    ]);
  });

  it('answers 400 for more than 2,500 events and stores none of them', async () => {
    const { app, sink } = await start();
    const small = { type: 'track', userId: 'u', event: 'E' };
    const ok = await post(app, '/v1/batch', { batch: Array(2500).fill(small) }, { auth: basic(WRITE_KEY) });
    expect(ok.status).toBe(200);
    expect(sink.accepted).toHaveLength(2500);
    const tooMany = await post(app, '/v1/batch', { batch: Array(2501).fill(small) }, { auth: basic(WRITE_KEY) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json()).toEqual(refusal('INGEST_TOO_MANY_EVENTS', 'The batch has 2501 events, over the limit of 2500'));
    expect(sink.accepted).toHaveLength(2500);
  });

  it('refuses an event over 32 KB on its own and stores the rest', async () => {
    const { app, sink } = await start();
    const big = { type: 'track', userId: 'u', event: 'Big', messageId: 'msg-big', properties: { blob: 'x'.repeat(33_000) } };
    const response = await post(app, '/v1/batch', { batch: [big, track] }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(200);
    const answer = response.json() as { rejected: Array<{ index: number; messageId: string; reason: string }> };
    expect(answer.rejected).toHaveLength(1);
    expect(answer.rejected[0]).toMatchObject({ index: 0, messageId: 'msg-big' });
    expect(answer.rejected[0]?.reason).toContain('over the limit of 32 KB');
    expect(sink.accepted.map((event) => event.messageId)).toEqual(['msg-track']);
    expect(JSON.stringify(sink.rejected[0]?.payload).length).toBeLessThan(500);
  });

  it('takes a body of exactly 500 KB and answers 413 to one byte more', async () => {
    const { app, sink } = await start();
    const body = bodyOfBytes(500 * 1024);
    expect(Buffer.byteLength(body)).toBe(512_000);
    const ok = await post(app, '/v1/batch', body, { auth: basic(WRITE_KEY) });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ success: true });
    expect(sink.accepted).toHaveLength(16);

    const over = await post(app, '/v1/batch', bodyOfBytes(500 * 1024 + 1), { auth: basic(WRITE_KEY) });
    expect(over.status).toBe(413);
    expect(over.json()).toEqual(refusal('INGEST_BODY_TOO_LARGE', 'The request body is over the limit of 500 KB (512000 bytes)'));
    expect(sink.batches).toHaveLength(1);
  });

  it('answers 400 with the position of a JSON syntax error', async () => {
    const { app, sink } = await start();
    const response = await post(app, '/v1/batch', '{"batch": [{"type": "track",}]}', { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual(refusal('INGEST_INVALID_JSON', "Invalid JSON: expected a property name in double quotes, found '}' at position 28"));
    const empty = await post(app, '/v1/batch', '', { auth: basic(WRITE_KEY) });
    expect(empty.json()).toEqual(refusal('INGEST_INVALID_JSON', 'Invalid JSON: the body is empty'));
    expect(sink.batches).toEqual([]);
  });

  it('answers 400 for a body that is not a batch', async () => {
    const { app } = await start();
    const response = await post(app, '/v1/batch', { events: [] }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual(refusal('INGEST_INVALID_BODY', 'The body has no "batch" array of events'));
  });

  it('makes prototype keys harmless', async () => {
    const { app, sink } = await start();
    const body =
      '{"batch":[{"type":"track","userId":"u","event":"E","properties":{"__proto__":{"polluted":"yes"},"price":3}}],' +
      '"context":{"__proto__":{"admin":true}},"__proto__":{"writeKey":"' +
      WRITE_KEY +
      '"}}';
    const response = await post(app, '/v1/batch', body, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(200);
    const [event] = sink.accepted;
    expect(event?.properties).toEqual({ price: 3 });
    expect(Object.getPrototypeOf(event?.properties)).toBe(Object.prototype);
    expect(event?.context).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('write keys', () => {
  it('takes the write key from Basic auth, with or without a password', async () => {
    const { app, sink } = await start();
    expect((await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) })).status).toBe(200);
    expect((await post(app, '/v1/batch', { batch: [track] }, { auth: basic(OTHER_KEY, 'ignored') })).status).toBe(200);
    expect(sink.batches.map((batch) => batch.destinationId)).toEqual(['dest-main', 'dest-other']);
  });

  it('takes the write key from the body, and prefers Basic auth when both are sent', async () => {
    const { app, sink } = await start();
    expect((await post(app, '/v1/batch', { batch: [track], writeKey: OTHER_KEY })).status).toBe(200);
    expect((await post(app, '/v1/track', { ...track, type: undefined, writeKey: WRITE_KEY })).status).toBe(200);
    expect((await post(app, '/v1/batch', { batch: [track], writeKey: OTHER_KEY }, { auth: basic(WRITE_KEY) })).status).toBe(200);
    expect(sink.batches.map((batch) => batch.destinationId)).toEqual(['dest-other', 'dest-main', 'dest-main']);
    expect(JSON.stringify(sink.batches)).not.toContain(WRITE_KEY);
    expect(JSON.stringify(sink.batches)).not.toContain(OTHER_KEY);
  });

  it('answers 401 for a missing or unknown key without echoing it', async () => {
    const { app, sink } = await start();
    const missing = await post(app, '/v1/batch', { batch: [track] });
    expect(missing.status).toBe(401);
    expect(missing.json()).toEqual(refusal('INGEST_MISSING_WRITE_KEY', 'Missing write key: send it as the Basic auth username or as "writeKey" in the body'));
    const wrongKey = 'wk_guess_1234567890';
    for (const response of [
      await post(app, '/v1/batch', { batch: [track] }, { auth: basic(wrongKey) }),
      await post(app, '/v1/batch', { batch: [track], writeKey: wrongKey }),
      await post(app, '/v1/identify', { ...identify, writeKey: wrongKey }),
    ]) {
      expect(response.status).toBe(401);
      expect(response.json()).toEqual(refusal('INGEST_UNKNOWN_WRITE_KEY', 'Unknown write key'));
      expect(response.text).not.toContain(wrongKey);
    }
    expect((await post(app, '/v1/batch', { batch: [track] }, { auth: 'Bearer sometoken' })).status).toBe(401);
    expect(sink.batches).toEqual([]);
  });

  it('answers 503 when the write keys cannot be read', async () => {
    const { app } = await start({
      writeKeys: {
        destinationFor: async () => {
          throw new Error('config store offline');
        },
      },
    });
    const response = await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(503);
    expect(response.json()).toEqual(refusal('INGEST_STORE_UNAVAILABLE', 'Could not check the write key; retry later'));
  });
});

describe('single-event routes', () => {
  it.each([
    ['identify', { userId: 'u', traits: { email: 'a@example.com' } }],
    ['track', { userId: 'u', event: 'Order Completed' }],
    ['page', { anonymousId: 'a', name: 'Home' }],
    ['screen', { userId: 'u', name: 'Cart' }],
    ['group', { userId: 'u', groupId: 'g' }],
    ['alias', { userId: 'u', previousId: 'a' }],
  ])('/v1/%s stores one event, its type implied by the route', async (route, body) => {
    const { app, sink } = await start();
    const response = await post(app, `/v1/${route}`, body, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ success: true });
    expect(sink.accepted).toHaveLength(1);
    expect(sink.accepted[0]?.type).toBe(route);
  });

  it('refuses a type that disagrees with the route (200, listed)', async () => {
    const { app, sink } = await start();
    const response = await post(app, '/v1/identify', { ...track, messageId: 'm-1' }, { auth: basic(WRITE_KEY) });
    expect(response.json()).toEqual({
      success: true,
      rejected: [{ index: 0, messageId: 'm-1', reason: 'type "track" does not match the /v1/identify route' }],
    });
    expect(sink.rejected).toHaveLength(1);
  });

  it('answers 413 for an event over 32 KB', async () => {
    const { app, sink } = await start();
    const response = await post(app, '/v1/track', { ...track, properties: { blob: 'x'.repeat(33_000) } }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(413);
    expect(response.json()).toEqual(refusal('INGEST_EVENT_TOO_LARGE', 'The event is over the limit of 32 KB (32768 bytes) as JSON'));
    expect(sink.batches).toEqual([]);
  });
});

describe('content types', () => {
  it('reads application/json with a charset and text/plain as JSON', async () => {
    const { app, sink } = await start();
    expect((await post(app, '/v1/track', track, { auth: basic(WRITE_KEY), contentType: 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await post(app, '/v1/track', track, { auth: basic(WRITE_KEY), contentType: 'text/plain;charset=UTF-8' })).status).toBe(200);
    expect(sink.accepted).toHaveLength(2);
  });

  it('answers 415 for other types, a missing type, a real form body, or an unknown compression', async () => {
    const { app, sink } = await start();
    for (const contentType of ['multipart/form-data; boundary=x', 'application/xml', null]) {
      const response = await post(app, '/v1/track', track, { auth: basic(WRITE_KEY), contentType });
      expect(response.status).toBe(415);
      expect(response.json()).toEqual(refusal('INGEST_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json (or text/plain holding JSON)'));
    }
    const form = await post(app, '/v1/track', 'userId=u&event=E', { auth: basic(WRITE_KEY), contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.json()).toEqual(
      refusal('INGEST_UNSUPPORTED_MEDIA_TYPE', 'Form-encoded bodies are not supported: send the events as JSON (application/json or text/plain)'),
    );
    const brotli = await post(app, '/v1/track', track, { auth: basic(WRITE_KEY), headers: { 'content-encoding': 'br' } });
    expect(brotli.status).toBe(415);
    expect(brotli.json()).toEqual(
      refusal('INGEST_UNSUPPORTED_ENCODING', 'Content-Encoding "br" is not supported: send the body as is, or compressed with gzip or deflate'),
    );
    expect(sink.batches).toEqual([]);
  });
});

describe('back-pressure and shutdown', () => {
  it('answers 429 with Retry-After while the backlog is over its limit, and stores nothing', async () => {
    const { app, sink } = await start({ maxBacklog: 100, retryAfterSeconds: 7 });
    sink.backlogValue = 101;
    const response = await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.json()).toEqual(refusal('INGEST_BACKLOG_FULL', 'Too many events are waiting for delivery; retry after the Retry-After delay'));
    expect(sink.batches).toEqual([]);
  });

  it('reads the backlog at most every 100 ms', async () => {
    const { app, sink, clock } = await start({ maxBacklog: 100 });
    sink.backlogValue = 500;
    expect((await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) })).status).toBe(429);
    sink.backlogValue = 0;
    // Still within 100 ms on the injected clock: the cached figure holds.
    clock.now += 99;
    expect((await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) })).status).toBe(429);
    expect(sink.backlogReads).toBe(1);
    clock.now += 1;
    expect((await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) })).status).toBe(200);
    expect(sink.backlogReads).toBe(2);
  });

  it('answers 503 while shutting down, before reading the body', async () => {
    const { app, sink, shuttingDown } = await start();
    shuttingDown.value = true;
    const response = await post(app, '/v1/batch', '{not even json', { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toEqual(refusal('INGEST_SHUTTING_DOWN', 'The server is shutting down; retry later'));
    const webhook = await post(app, '/v1/webhook', identify, { auth: basic(WRITE_KEY) });
    expect(webhook.status).toBe(503);
    expect(sink.batches).toEqual([]);
  });

  it('answers 503, never 200, when the sink cannot store the events', async () => {
    const { app, sink } = await start();
    sink.failWith = Object.assign(new Error('database or disk is full: /var/lib/data.db'), { code: 'SQLITE_FULL' });
    const response = await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toEqual(refusal('INGEST_STORE_FAILED', 'Could not store the events (SQLITE_FULL); nothing was stored, retry later'));
    expect(sink.batches).toEqual([]);
    sink.failWith = null;
    expect((await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) })).status).toBe(200);
    expect(sink.accepted).toHaveLength(1);
  });

  it('answers 503 as well when the sink throws instead of rejecting', async () => {
    const { app, sink } = await start();
    sink.failWith = new Error('the event store is closed');
    sink.throwSynchronously = true;
    const response = await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(503);
    expect(response.json()).toEqual(refusal('INGEST_STORE_FAILED', 'Could not store the events; nothing was stored, retry later'));
  });

  it('answers 503 when the backlog cannot be read', async () => {
    const { app, sink } = await start();
    sink.backlog = async () => {
      throw new Error('SQLITE_BUSY');
    };
    const response = await post(app, '/v1/batch', { batch: [track] }, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(503);
    expect(response.json()).toEqual(refusal('INGEST_STORE_UNAVAILABLE', 'Could not read the delivery backlog; retry later'));
  });

  it('reports each stored batch to onStored', async () => {
    const seen: Array<[number, number, number]> = [];
    const { app } = await start({ onStored: (counts, result) => seen.push([counts.accepted, counts.rejected, result.duplicates]) });
    await post(app, '/v1/batch', { batch: [track, track, { type: 'alias', userId: 'u' }] }, { auth: basic(WRITE_KEY) });
    expect(seen).toEqual([[2, 1, 1]]);
  });
});

describe('POST /v1/webhook', () => {
  it('takes one event with Basic auth', async () => {
    const { app, sink } = await start();
    const response = await post(app, '/v1/webhook', identify, { auth: basic(WRITE_KEY) });
    expect(response.status).toBe(200);
    expect(sink.batches[0]?.destinationId).toBe('dest-main');
    expect(sink.accepted.map((event) => event.messageId)).toEqual(['msg-identify']);
  });

  it('takes a body signed with X-Signature (hex HMAC-SHA1 of the body) for the secret’s destination', async () => {
    const { app, sink } = await start();
    const body = JSON.stringify(track);
    const response = await post(app, '/v1/webhook', body, { headers: { 'x-signature': hmac(body) } });
    expect(response.status).toBe(200);
    expect(sink.batches[0]?.destinationId).toBe('dest-webhook');
    const upper = await post(app, '/v1/webhook', body, { headers: { 'x-signature': hmac(body).toUpperCase() } });
    expect(upper.status).toBe(200);
  });

  it('takes X-Segment-Signature (the whole body) too', async () => {
    const { app, sink } = await start();
    const body = JSON.stringify([identify, track]);
    const response = await post(app, '/v1/webhook', body, { headers: { 'x-segment-signature': hmac(body) } });
    expect(response.status).toBe(200);
    expect(sink.accepted).toHaveLength(2);
  });

  it('takes an array signed over the first event only (the Webhooks Actions batching quirk)', async () => {
    const { app, sink } = await start();
    const body = JSON.stringify([identify, track]);
    const response = await post(app, '/v1/webhook', body, { headers: { 'x-signature': hmac(JSON.stringify(identify)) } });
    expect(response.status).toBe(200);
    expect(sink.accepted.map((event) => event.messageId)).toEqual(['msg-identify', 'msg-track']);
    // A first event whose bytes were changed no longer matches.
    const tampered = JSON.stringify([{ ...identify, userId: 'someone-else' }, track]);
    expect((await post(app, '/v1/webhook', tampered, { headers: { 'x-signature': hmac(JSON.stringify(identify)) } })).status).toBe(401);
  });

  it('verifies the first-event signature on the bytes as sent, prototype keys included', async () => {
    const { app, sink } = await start();
    const firstEvent = '{"type":"track","userId":"u","event":"E","properties":{"__proto__":{"x":1},"y":2}}';
    const body = `[${firstEvent},${JSON.stringify(track)}]`;
    const response = await post(app, '/v1/webhook', body, { headers: { 'x-signature': hmac(firstEvent) } });
    expect(response.status).toBe(200);
    expect(sink.accepted[0]?.properties).toEqual({ y: 2 });
  });

  it('answers 401 to a wrong, malformed or missing signature', async () => {
    const { app, sink } = await start();
    const body = JSON.stringify(track);
    for (const signature of [hmac(body, 'another-secret'), hmac(`${body} `), 'not-hex', hmac(body).slice(0, 39), '']) {
      const response = await post(app, '/v1/webhook', body, { headers: { 'x-signature': signature } });
      expect(response.status).toBe(401);
      expect(response.text).not.toContain(WEBHOOK_SECRET);
    }
    const none = await post(app, '/v1/webhook', body);
    expect(none.json()).toEqual(refusal('INGEST_MISSING_CREDENTIALS', 'Missing credentials: send a write key as the Basic auth username, or sign the body (X-Signature)'));
    const wrong = await post(app, '/v1/webhook', body, { headers: { 'x-signature': hmac(body, 'x') } });
    expect(wrong.json()).toEqual(refusal('INGEST_INVALID_CREDENTIALS', 'Invalid credentials: unknown write key or wrong X-Signature'));
    expect(sink.batches).toEqual([]);
  });

  it('accepts a good signature even beside an unknown Basic key, and reads secrets from a function', async () => {
    const { app, sink } = await start({ webhookSecrets: async () => [{ destinationId: 'dest-fn', secret: 'fn-secret' }] });
    const body = JSON.stringify(track);
    const response = await post(app, '/v1/webhook', body, { auth: basic('unknown'), headers: { 'x-signature': hmac(body, 'fn-secret') } });
    expect(response.status).toBe(200);
    expect(sink.batches[0]?.destinationId).toBe('dest-fn');
  });

  it('stores a delete notification', async () => {
    const { app, sink } = await start();
    const body = JSON.stringify({ type: 'delete', userId: 'user-9', timestamp: '2026-02-27T08:00:00.000Z' });
    const response = await post(app, '/v1/webhook', body, { headers: { 'x-signature': hmac(body) } });
    expect(response.json()).toEqual({ success: true });
    expect(sink.accepted[0]).toMatchObject({ type: 'delete', userId: 'user-9', timestamp: '2026-02-27T08:00:00.000Z' });
  });

  it('lists refused events of an array', async () => {
    const { app } = await start();
    const response = await post(app, '/v1/webhook', [track, { type: 'delete', messageId: 'd-1' }], { auth: basic(WRITE_KEY) });
    expect(response.json()).toEqual({
      success: true,
      rejected: [{ index: 1, messageId: 'd-1', reason: 'a delete notification needs a userId' }],
    });
  });
});

/** A batch body of exactly `bytes` bytes, each event under 32 KB. */
function bodyOfBytes(bytes: number): string {
  const events = Array.from({ length: 16 }, (_, i) => ({ type: 'track', userId: 'u', event: 'E', messageId: `fill-${i}`, properties: { f: '' } }));
  const empty = Buffer.byteLength(JSON.stringify({ batch: events }));
  const room = bytes - empty;
  const each = Math.floor(room / events.length);
  events.forEach((event, i) => {
    event.properties.f = 'x'.repeat(i === 0 ? room - each * (events.length - 1) : each);
  });
  return JSON.stringify({ batch: events });
}
