import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { deflateRawSync, deflateSync, gzipSync, createGzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES } from '../../src/segment/index.ts';
import { IngestRefusal, receiveBody, type RefusedRequest } from '../../src/server/ingest.ts';
import { WEBHOOK_SECRET, WRITE_KEY, basic, buildIngestApp, type TestServer } from './ingest-fixtures.ts';

/**
 * What real clients put on the wire: compressed bodies, charsets, mislabelled JSON, the short
 * paths of analytics.js and the mobile libraries, RudderStack's beacon, CORS from browsers.
 */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.app.close();
  server = undefined;
});

async function start(...args: Parameters<typeof buildIngestApp>): Promise<TestServer> {
  server = await buildIngestApp(...args);
  return server;
}

async function send(app: FastifyInstance, url: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });
  return { status: response.statusCode, headers: response.headers, json: () => response.json() as Record<string, unknown> };
}

const track = (messageId: string, extra: Record<string, unknown> = {}) => ({ type: 'track', userId: 'u-1', event: 'Clicked', messageId, ...extra });
const batchOf = (...events: unknown[]) => JSON.stringify({ batch: events });

describe('compressed bodies', () => {
  it('reads gzip, x-gzip, deflate (zlib) and raw deflate bodies on every route', async () => {
    const { app, sink } = await start();
    const auth = { authorization: basic(WRITE_KEY) };
    expect((await send(app, '/v1/batch', gzipSync(batchOf(track('gz'))), { ...auth, 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await send(app, '/v1/batch', gzipSync(batchOf(track('xgz'))), { ...auth, 'content-encoding': 'x-gzip' })).status).toBe(200);
    expect((await send(app, '/v1/batch', deflateSync(batchOf(track('zlib'))), { ...auth, 'content-encoding': 'deflate' })).status).toBe(200);
    expect((await send(app, '/v1/batch', deflateRawSync(batchOf(track('raw'))), { ...auth, 'content-encoding': 'Deflate' })).status).toBe(200);
    expect((await send(app, '/v1/t', gzipSync(JSON.stringify(track('short'))), { ...auth, 'content-encoding': 'gzip' })).status).toBe(200);
    const signed = JSON.stringify(track('hook'));
    const hook = await send(app, '/v1/webhook', gzipSync(signed), { 'content-encoding': 'gzip', 'x-signature': hmac(signed) });
    expect(hook.status).toBe(200);
    expect(sink.accepted.map((e) => e.messageId)).toEqual(['gz', 'xgz', 'zlib', 'raw', 'short', 'hook']);
  });

  it('checks X-Signature over the JSON as written or over the compressed bytes as sent', async () => {
    const { app, sink } = await start();
    const json = JSON.stringify(track('wire'));
    const wire = gzipSync(json);
    expect((await send(app, '/v1/webhook', wire, { 'content-encoding': 'gzip', 'x-signature': hmac(wire) })).status).toBe(200);
    const forged = await send(app, '/v1/webhook', gzipSync(JSON.stringify(track('forged'))), { 'content-encoding': 'gzip', 'x-signature': hmac(wire) });
    expect(forged.status).toBe(401);
    expect(sink.accepted.map((e) => e.messageId)).toEqual(['wire']);
  });

  it('applies the 500 KB limit to the decompressed bytes: a small body that inflates past it is 413', async () => {
    const { app, sink } = await start();
    const padding = ' '.repeat(MAX_REQUEST_BYTES);
    const body = gzipSync(`${batchOf(track('big'))}${padding}`);
    expect(body.length).toBeLessThan(2_000);
    const response = await send(app, '/v1/batch', body, { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip' });
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(response.json()).toMatchObject({ code: 'INGEST_BODY_TOO_LARGE', message: `The request body is over the limit of 500 KB (${MAX_REQUEST_BYTES} bytes) once decompressed` });
    // Exactly at the limit once decompressed is fine.
    const atLimit = batchOf(track('at-limit'));
    const exact = gzipSync(atLimit + ' '.repeat(MAX_REQUEST_BYTES - Buffer.byteLength(atLimit)));
    expect((await send(app, '/v1/batch', exact, { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip' })).status).toBe(200);
    expect(sink.accepted.map((e) => e.messageId)).toEqual(['at-limit']);
  });

  it('stops reading a zip bomb as soon as its output passes the limit, without inflating the rest', async () => {
    // An endless gzip stream of zeros: it could never be inflated whole, nor even read whole.
    const zeros = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    const bomb = zeros.pipe(createGzip());
    let compressedRead = 0;
    const counted = bomb.on('data', (chunk: Buffer) => {
      compressedRead += chunk.length;
    });
    counted.pause();
    const refusal = await receiveBody(counted, { 'content-encoding': 'gzip' }, MAX_REQUEST_BYTES).then(
      () => null,
      (error: unknown) => error,
    );
    zeros.destroy();
    bomb.destroy();
    expect(refusal).toBeInstanceOf(IngestRefusal);
    expect((refusal as IngestRefusal).code).toBe('INGEST_BODY_TOO_LARGE');
    expect((refusal as IngestRefusal).message).toContain('once decompressed');
    // Zeros deflate about 1000:1: passing 500 KB of output takes about 0.5 KB of input.
    expect(compressedRead).toBeLessThan(64 * 1024);
  });

  it('refuses a body that does not decompress, and an encoding it does not know, naming it', async () => {
    const { app, sink } = await start();
    const corrupt = await send(app, '/v1/batch', Buffer.from('plain text, not gzip'), { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.json()).toMatchObject({ code: 'INGEST_INVALID_COMPRESSION', message: 'The body is not valid gzip data (Content-Encoding: gzip)' });
    const truncated = gzipSync(batchOf(track('cut'))).subarray(0, 20);
    expect((await send(app, '/v1/batch', truncated, { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip' })).json()).toMatchObject({
      code: 'INGEST_INVALID_COMPRESSION',
    });
    const both = await send(app, '/v1/batch', gzipSync(batchOf(track('two'))), { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip, br' });
    expect(both.status).toBe(415);
    expect(both.json()).toMatchObject({ code: 'INGEST_UNSUPPORTED_ENCODING', message: expect.stringContaining('"gzip, br"') });
    expect(sink.batches).toEqual([]);
  });
});

describe('content types and charsets', () => {
  it('reads JSON labelled application/x-www-form-urlencoded (RudderStack Node SDK), and refuses a real form', async () => {
    const { app, sink } = await start();
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(WRITE_KEY) };
    expect((await send(app, '/v1/batch', batchOf(track('form-json')), form)).status).toBe(200);
    expect((await send(app, '/v1/batch', gzipSync(batchOf(track('form-gz'))), { ...form, 'content-encoding': 'gzip' })).status).toBe(200);
    const real = await send(app, '/v1/batch', 'batch=1&writeKey=x', form);
    expect(real.status).toBe(415);
    expect(sink.accepted.map((e) => e.messageId)).toEqual(['form-json', 'form-gz']);
  });

  it('decodes a body by its charset, and never stores replacement characters', async () => {
    const { app, sink } = await start();
    const latin1 = Buffer.from(batchOf(track('latin1', { properties: { city: 'Zürich', café: 'crème' } })), 'latin1');
    expect((await send(app, '/v1/batch', latin1, { 'content-type': 'text/plain; charset=ISO-8859-1', authorization: basic(WRITE_KEY) })).status).toBe(200);
    const utf16 = Buffer.from(batchOf(track('utf16', { properties: { word: 'naïve ✓' } })), 'utf16le');
    expect((await send(app, '/v1/batch', utf16, { 'content-type': 'application/json; charset="utf-16le"', authorization: basic(WRITE_KEY) })).status).toBe(200);
    expect(sink.accepted.map((e) => e.properties)).toEqual([{ city: 'Zürich', café: 'crème' }, { word: 'naïve ✓' }]);

    const unknown = await send(app, '/v1/batch', latin1, { 'content-type': 'application/json; charset=klingon', authorization: basic(WRITE_KEY) });
    expect(unknown.status).toBe(415);
    expect(unknown.json()).toMatchObject({ code: 'INGEST_UNSUPPORTED_CHARSET', message: 'The charset "klingon" is not supported: send UTF-8' });
    // Latin-1 bytes sent as UTF-8 (the default): refused, not stored as U+FFFD.
    const mislabelled = await send(app, '/v1/batch', latin1, { authorization: basic(WRITE_KEY) });
    expect(mislabelled.status).toBe(400);
    expect(mislabelled.json()).toMatchObject({ code: 'INGEST_INVALID_TEXT' });
    expect(JSON.stringify(sink.batches)).not.toContain('\uFFFD');
    expect(sink.accepted).toHaveLength(2);
  });
});

describe('the paths clients use', () => {
  it('takes analytics.js short paths, the mobile libraries /v1/b, and /v1/import', async () => {
    const { app, sink } = await start();
    const auth = { authorization: basic(WRITE_KEY) };
    const single: Array<[string, Record<string, unknown>]> = [
      ['/v1/t', { userId: 'u', event: 'E', messageId: 't' }],
      ['/v1/i', { userId: 'u', traits: {}, messageId: 'i' }],
      ['/v1/p', { userId: 'u', name: 'Home', messageId: 'p' }],
      ['/v1/s', { userId: 'u', name: 'Screen', messageId: 's' }],
      ['/v1/g', { userId: 'u', groupId: 'g-1', messageId: 'g' }],
      ['/v1/a', { userId: 'u', previousId: 'old', messageId: 'a' }],
    ];
    for (const [path, event] of single) expect((await send(app, path, JSON.stringify(event), auth)).status, path).toBe(200);
    expect((await send(app, '/v1/b', batchOf(track('b')), auth)).status).toBe(200);
    expect((await send(app, '/v1/import', batchOf(track('import')), auth)).status).toBe(200);
    expect(sink.accepted.map((e) => [e.messageId, e.type])).toEqual([
      ['t', 'track'],
      ['i', 'identify'],
      ['p', 'page'],
      ['s', 'screen'],
      ['g', 'group'],
      ['a', 'alias'],
      ['b', 'track'],
      ['import', 'track'],
    ]);
    // The route still names the type: a track on /v1/i is refused as on /v1/identify.
    const wrong = await send(app, '/v1/i', JSON.stringify({ type: 'track', userId: 'u', event: 'E' }), auth);
    expect(wrong.json()).toMatchObject({ rejected: [{ reason: 'type "track" does not match the /v1/identify route' }] });
  });

  it("takes analytics-java's /v1/import/ and every ingest path with a trailing slash", async () => {
    // analytics-java's Builder.endpoint("https://host") posts to "https://host/v1/import/".
    const { app, sink } = await start();
    const auth = { authorization: basic(WRITE_KEY) };
    expect((await send(app, '/v1/import/', batchOf(track('java')), auth)).status).toBe(200);
    expect((await send(app, '/v1/batch/', batchOf(track('batch')), auth)).status).toBe(200);
    expect((await send(app, '/v1/track/', JSON.stringify(track('one')), auth)).status).toBe(200);
    expect((await send(app, `/beacon/v1/batch/?writeKey=${WRITE_KEY}`, batchOf(track('beacon')), { 'content-type': 'text/plain' })).status).toBe(200);
    const signed = JSON.stringify(track('hook'));
    expect((await send(app, '/v1/webhook/', signed, { 'x-signature': hmac(signed) })).status).toBe(200);
    const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/import/', headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(204);
    expect(sink.accepted.map((e) => e.messageId)).toEqual(['java', 'batch', 'one', 'beacon', 'hook']);
  });

  it("takes RudderStack's beacon with the write key in the query string, and nowhere else", async () => {
    const { app, sink } = await start();
    const beacon = await send(app, `/beacon/v1/batch?writeKey=${WRITE_KEY}`, batchOf(track('beacon')), { 'content-type': 'text/plain;charset=UTF-8' });
    expect(beacon.status).toBe(200);
    expect(sink.batches[0]?.destinationId).toBe('dest-main');
    const unknown = await send(app, '/beacon/v1/batch?writeKey=nope', batchOf(track('nope')), { 'content-type': 'text/plain' });
    expect(unknown.json()).toMatchObject({ code: 'INGEST_UNKNOWN_WRITE_KEY' });
    const missing = await send(app, '/beacon/v1/batch', batchOf(track('none')), { 'content-type': 'text/plain' });
    expect(missing.json()).toMatchObject({
      code: 'INGEST_MISSING_WRITE_KEY',
      message: 'Missing write key: send it as the Basic auth username, as "writeKey" in the body or as ?writeKey= in the URL',
    });
    // Only the beacon path reads the query string.
    const elsewhere = await send(app, `/v1/batch?writeKey=${WRITE_KEY}`, batchOf(track('query')));
    expect(elsewhere.status).toBe(401);
    expect(sink.accepted.map((e) => e.messageId)).toEqual(['beacon']);
  });
});

describe('CORS on the ingest routes', () => {
  const origin = 'https://shop.example.com';

  it('answers a preflight with the allowed origin, POST, the headers asked for and a max age; never credentials', async () => {
    const { app } = await start();
    for (const url of ['/v1/t', '/v1/batch', '/beacon/v1/batch?writeKey=x', '/v1/webhook']) {
      const response = await app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,anonymousid,sentat,rsa-retry-attempt' },
      });
      expect(response.statusCode, url).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['access-control-allow-methods']).toBe('POST');
      const allowed = String(response.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'content-encoding', 'anonymousid', 'sentat', 'rsa-retry-attempt']));
      expect(Number(response.headers['access-control-max-age'])).toBeGreaterThan(0);
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('puts Access-Control-Allow-Origin on every answer to a browser, errors included', async () => {
    const { app } = await start();
    const ok = await send(app, '/v1/t', JSON.stringify(track('cors-ok')), { origin, authorization: basic(WRITE_KEY) });
    const refused = await send(app, '/v1/t', JSON.stringify(track('cors-401')), { origin });
    const broken = await send(app, '/v1/t', '{', { origin, authorization: basic(WRITE_KEY) });
    for (const response of [ok, refused, broken]) {
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    }
    expect([ok.status, refused.status, broken.status]).toEqual([200, 401, 400]);
    // Server-side clients send no Origin: no CORS headers.
    expect((await send(app, '/v1/t', JSON.stringify(track('server')), { authorization: basic(WRITE_KEY) })).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('with CORS_ORIGINS, echoes an allowed origin and refuses the others with 403', async () => {
    const { app, sink } = await start({ corsOrigins: [origin, 'http://localhost:3000'] });
    const allowed = await send(app, '/v1/t', JSON.stringify(track('allowed')), { origin, authorization: basic(WRITE_KEY) });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(origin);
    expect(String(allowed.headers.vary)).toContain('Origin');
    const other = await send(app, '/v1/t', JSON.stringify(track('other')), { origin: 'https://evil.example', 'content-type': 'text/plain', authorization: basic(WRITE_KEY) });
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.json()).toMatchObject({ code: 'INGEST_ORIGIN_NOT_ALLOWED' });
    const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/t', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(403);
    expect(sink.accepted.map((e) => e.messageId)).toEqual(['allowed']);
  });
});

describe('refused requests', () => {
  it('tells onRefused of every error answer with its code, and never the query string', async () => {
    const refused: RefusedRequest[] = [];
    const { app } = await start({ onRefused: (r) => refused.push(r) });
    await send(app, '/beacon/v1/batch?writeKey=secret-looking-key', batchOf(track('x')), { 'content-type': 'text/plain', 'user-agent': 'test-agent' });
    await send(app, '/v1/batch', '{', { authorization: basic(WRITE_KEY) });
    await send(app, '/v1/batch', batchOf(track('fine')), { authorization: basic(WRITE_KEY) });
    expect(refused.map((r) => [r.code, r.status, r.method])).toEqual([
      ['INGEST_UNKNOWN_WRITE_KEY', 401, 'POST'],
      ['INGEST_INVALID_JSON', 400, 'POST'],
    ]);
    expect(refused[0]?.userAgent).toBe('test-agent');
  });
});

function hmac(body: string | Buffer): string {
  return createHmac('sha1', WEBHOOK_SECRET).update(body).digest('hex');
}
