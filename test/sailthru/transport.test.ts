import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SailthruClient } from '../../src/sailthru/client.ts';
import { signature } from '../../src/sailthru/signature.ts';

/**
 * A raw HTTP server that records exactly what arrives on the wire and answers with whatever the
 * test scripts: used for the transport shape and for answers the emulator never gives (HTML
 * bodies, 501). Everything Sailthru-behavioural is tested against the emulator instead.
 */
interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}
type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hang' | 'drop';

let server: Server;
let base: string;
const seen: Seen[] = [];
let nextReply: Reply = { status: 200, body: '{"ok":true}' };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body });
      const reply = nextReply;
      if (reply === 'hang') return;
      if (reply === 'drop') return req.socket.destroy();
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const creds = () => ({ apiKey: 'abcd12345', sharedSecret: '1324qwerty', apiUrl: base, trackUrl: base, customerId: 'cust-1' });
const reply = (r: Reply) => {
  nextReply = r;
  seen.length = 0;
};

describe('transport', () => {
  it('GET sends the four parameters in the query string, signed, without the secret', async () => {
    reply({ status: 200, body: '{"keys":{"email":"a@b.co"}}' });
    const client = new SailthruClient(creds());
    const res = await client.getUser({ id: 'user-1', key: 'extid', fields: { keys: 1, purchase_incomplete: 1 } });
    await client.close();
    expect(res.ok).toBe(true);
    const req = seen[0]!;
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/user');
    expect(req.body).toBe('');
    expect([...req.query.keys()].sort()).toEqual(['api_key', 'format', 'json', 'sig']);
    expect(req.query.get('json')).toBe('{"id":"user-1","key":"extid","fields":{"keys":1,"purchase_incomplete":1}}');
    expect(req.query.get('sig')).toBe('fb44ad8f38cd4eb2a5a48a1fc023d2d2');
    expect(req.query.get('format')).toBe('json');
    expect(JSON.stringify(req)).not.toContain('1324qwerty');
  });

  it('DELETE sends its parameters in the query string too', async () => {
    reply({ status: 200, body: '{"ok":true}' });
    const client = new SailthruClient(creds());
    await client.deleteUser({ id: 'user-1', key: 'extid' });
    await client.close();
    expect(seen[0]!.method).toBe('DELETE');
    expect(JSON.parse(seen[0]!.query.get('json')!)).toEqual({ id: 'user-1', key: 'extid' });
    expect(seen[0]!.body).toBe('');
  });

  it('POST sends them form-encoded in the body, and the signed json is byte-identical to the sent one', async () => {
    reply({ status: 200, body: '{"ok":true}' });
    const client = new SailthruClient(creds());
    await client.postEvent({ id: 'u', key: 'extid', event: 'Zoë ✓ & more', vars: { n: 'a+b=c' } });
    await client.close();
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect([...req.query.keys()]).toEqual([]);
    const form = new URLSearchParams(req.body);
    const json = form.get('json')!;
    expect(JSON.parse(json)).toEqual({ id: 'u', key: 'extid', event: 'Zoë ✓ & more', vars: { n: 'a+b=c' } });
    expect(form.get('sig')).toBe(signature({ api_key: 'abcd12345', format: 'json', json }, '1324qwerty'));
    expect(req.body).not.toContain('1324qwerty');
  });

  it('page views go as JSON with the customer id as bearer token and no signature', async () => {
    reply({ status: 200, body: '{}' });
    const client = new SailthruClient(creds());
    const res = await client.pageView({ userIdKey: 'extid', userIdValue: 'u1', url: 'https://x.test/a', useStoredTags: true });
    await client.close();
    expect(res.ok).toBe(true);
    const req = seen[0]!;
    expect(req.path).toBe('/v1/track/event/pageview');
    expect(req.headers['authorization']).toBe('Bearer cust-1');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ userIdKey: 'extid', userIdValue: 'u1', url: 'https://x.test/a', useStoredTags: true });
    expect(req.body).not.toContain('sig');
  });

  it('a page view without a customer id fails permanently without a request', async () => {
    reply({ status: 200, body: '{}' });
    const client = new SailthruClient({ ...creds(), customerId: undefined });
    const res = await client.pageView({ userIdKey: 'extid', userIdValue: 'u1', url: 'https://x.test/' });
    await client.close();
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.class).toBe('permanent');
      expect(res.message).toBe('customerId is required for page calls');
    }
    expect(seen).toHaveLength(0);
  });

  it('the base URL defaults to Sailthru and can be overridden', async () => {
    reply({ status: 200, body: '{"ok":true}' });
    const client = new SailthruClient({ apiKey: 'k', sharedSecret: 's', apiUrl: `${base}/` });
    await client.postUser({ id: 'u' });
    await client.close();
    expect(seen[0]!.path).toBe('/user');
  });
});

describe('answers the emulator never gives', () => {
  it('a non-JSON body is an error, never a crash', async () => {
    reply({ status: 200, body: '<html>gateway</html>', headers: { 'content-type': 'text/html' } });
    const client = new SailthruClient(creds());
    const res = await client.postUser({ id: 'u' });
    await client.close();
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.status).toBe(200);
      expect(res.code).toBeNull();
      expect(res.class).toBe('retryable');
      expect(res.message).toContain('not JSON');
      expect(res.message).toContain('<html>gateway</html>');
    }
  });

  it('HTTP 501 is permanent, other 5xx are retryable', async () => {
    const client = new SailthruClient(creds());
    reply({ status: 501, body: '{"error":1,"errormsg":"Unsupported"}' });
    const r501 = await client.postUser({ id: 'u' });
    reply({ status: 503, body: 'Service Unavailable' });
    const r503 = await client.postUser({ id: 'u' });
    await client.close();
    expect(!r501.ok && r501.class).toBe('permanent');
    expect(!r503.ok && r503.class).toBe('retryable');
  });

  it('records X-Rate-Limit-* per method and endpoint, and nothing for calls never made', async () => {
    const client = new SailthruClient(creds());
    expect(client.rateLimits().get('POST /user')).toBeUndefined();
    reply({ status: 200, body: '{"ok":true}', headers: { 'x-rate-limit-limit': '18000', 'x-rate-limit-remaining': '17999', 'x-rate-limit-reset': '1459382280' } });
    const res = await client.postUser({ id: 'u' });
    reply({ status: 200, body: '{}', headers: { 'x-rate-limit-limit': '36000', 'x-rate-limit-remaining': '12', 'x-rate-limit-reset': '1580484600' } });
    await client.getUser({ id: 'u', key: 'extid' });
    await client.close();
    expect(res.rateLimit).toEqual({ limit: 18000, remaining: 17999, reset: 1459382280 });
    expect(client.rateLimits().get('POST /user')).toEqual({ limit: 18000, remaining: 17999, reset: 1459382280 });
    expect(client.rateLimits().get('GET /user')).toEqual({ limit: 36000, remaining: 12, reset: 1580484600 });
    expect(client.rateLimits().get('DELETE /user')).toBeUndefined();
  });

  it('asks the gate before every request and tells it the headers', async () => {
    const asked: string[] = [];
    const observed: string[] = [];
    const client = new SailthruClient(creds(), {
      gate: {
        acquire: async (m, e) => void asked.push(`${m} ${e}`),
        observe: (m, e, info) => void observed.push(`${m} ${e} ${info.remaining}`),
      },
    });
    reply({ status: 200, body: '{}', headers: { 'x-rate-limit-limit': '2400', 'x-rate-limit-remaining': '7', 'x-rate-limit-reset': '1' } });
    await client.postEvent({ id: 'u', key: 'extid', event: 'x' });
    await client.close();
    expect(asked).toEqual(['POST /event']);
    expect(observed).toEqual(['POST /event 7']);
  });

  it('a payload that cannot be serialised is a permanent error without a request', async () => {
    reply({ status: 200, body: '{}' });
    const client = new SailthruClient(creds());
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const res = await client.postUser(cyclic);
    await client.close();
    expect(!res.ok && res.class).toBe('permanent');
    expect(seen).toHaveLength(0);
  });
});
