import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { SailthruClient } from '../../src/sailthru/client.ts';
import { targetOf } from '../../src/sailthru/target.ts';
import { exchange } from '../../src/sailthru/transport.ts';

/**
 * Issue 22: the transport no longer hands undici the whole URL to parse on every call; it gives
 * the origin and path itself (target.ts) and reads the body with plain listeners. What goes on
 * the wire must not change by a byte: the request line is compared with what undici derives
 * from the URL (a WHATWG URL's origin and pathname + search), and the body's outcomes (whole,
 * cut at the cap without Content-Length, broken mid-body) with what the transport always said.
 */

/** What undici's request(url) sends: index.js makeDispatcher. */
function undiciTarget(url: string): { origin: string; path: string } {
  const u = new URL(url);
  return { origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname };
}

describe('targetOf', () => {
  it('derives the origin and path exactly as undici does, for every URL shape the client sends', () => {
    const query = new URLSearchParams({ api_key: 'k', format: 'json', json: '{"id":"a b@x.com","v":"é!\'()~*"}', sig: 'f'.repeat(32) }).toString();
    const bases = [
      'http://127.0.0.1:8080',
      'https://api.sailthru.com',
      'https://API.Sailthru.com:443',
      'http://[::1]:9000',
      'http://user:pass@host.example',
      'http://host.example/prefix',
      'http://host.example/a/./b/../c',
      'http://host.example/sp ace/é',
      'http://host.example/%7Euser',
    ];
    const urls = bases.flatMap((b) => [`${b}/user`, `${b}/event`, `${b}/user?${query}`, `${b}/job?`, `${b}/v1/track/event/pageview`]);
    for (const url of urls) {
      // Twice: the second answer comes from the cache.
      expect(targetOf(url), url).toEqual(undiciTarget(url));
      expect(targetOf(url), url).toEqual(undiciTarget(url));
    }
  });

  it('leaves to undici what it cannot vouch for', () => {
    for (const url of ['http://h/x#frag', 'http://h/x?a=<b>', "http://h/x?a='", 'http://h/x?a b', 'ftp://h/x', 'not a url', 'http://h/x?q=1?r=2']) {
      expect(targetOf(url), url).toBeUndefined();
    }
  });
});

describe('the request line and the body, over the wire', () => {
  let server: Server;
  let base: string;
  const lines: string[] = [];
  let reply: (res: import('node:http').ServerResponse) => void = (res) => res.end('{}');

  beforeAll(async () => {
    server = createServer((req, res) => {
      lines.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => reply(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the path undici would, through a base URL with a prefix, dot segments and characters to encode', async () => {
    const client = new SailthruClient({ apiKey: 'key', sharedSecret: 'secret-0123', apiUrl: `${base}/a b/./x/../sail`, trackUrl: `${base}/t` , customerId: 'c' });
    lines.length = 0;
    reply = (res) => res.end('{"keys":{"sid":"1"}}');
    await client.getUser({ id: "o'brien (x)!~*@example.com", fields: { keys: 1 } });
    reply = (res) => res.end('{}');
    await client.postEvent({ id: 'a@example.com', event: 'x' });
    await client.pageView({ id: 'a', url: 'https://x' });
    await client.close();
    const getUrl = `${base}/a b/./x/../sail/user?${new URLSearchParams({
      api_key: 'key',
      format: 'json',
      json: JSON.stringify({ id: "o'brien (x)!~*@example.com", fields: { keys: 1 } }),
    }).toString()}`;
    expect(lines[0]!.startsWith(`GET ${undiciTarget(getUrl).path.split('&sig=')[0]}`)).toBe(true);
    expect(lines[0]!.startsWith('GET /a%20b/sail/user?api_key=key&format=json&json=')).toBe(true);
    expect(lines.slice(1)).toEqual(['POST /a%20b/sail/event', 'POST /t/v1/track/event/pageview']);
  });

  it('reads a chunked answer over the cap as too large, and a whole one in many chunks as whole', async () => {
    const agent = new Agent();
    try {
      reply = (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 40; i++) res.write('x'.repeat(100));
        res.end();
      };
      const over = await exchange(agent, { method: 'GET', url: `${base}/big`, headers: {} }, 5000, 2500);
      expect(over.kind).toBe('too-large');
      expect(over.kind === 'too-large' && over.bytesRead > 2500 && over.announced === null).toBe(true);
      const whole = await exchange(agent, { method: 'GET', url: `${base}/big`, headers: {} }, 5000, 4000);
      expect(whole.kind === 'answered' && whole.body.toString()).toBe('x'.repeat(4000));
      // Reused after a cut-off answer: the next exchange on the agent still works.
      reply = (res) => res.end('{"ok":1}');
      const after = await exchange(agent, { method: 'POST', url: `${base}/after`, headers: {}, body: 'a=1' }, 5000);
      expect(after.kind === 'answered' && after.body.toString()).toBe('{"ok":1}');
    } finally {
      await agent.close();
    }
  });

  it('reports a connection broken mid-body as cut, with the bytes read so far', async () => {
    const agent = new Agent();
    try {
      reply = (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"partial":', () => setTimeout(() => res.socket?.destroy(), 20));
      };
      const cut = await exchange(agent, { method: 'GET', url: `${base}/cut`, headers: {} }, 5000);
      expect(cut.kind).toBe('cut');
      expect(cut.kind === 'cut' && cut.bytesRead).toBe(11);
    } finally {
      await agent.close();
    }
  });
});
