import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SailthruClient } from '../../src/sailthru/client.ts';
import type { SailthruError, SailthruResult } from '../../src/sailthru/types.ts';

/**
 * What a server at Sailthru's address may answer that Sailthru never would (SPEC.md §9): a body
 * trickled for ever, a huge one, a 2xx that is not a success, a redirect, a connection cut in the
 * middle, bytes that are not HTTP. Each must end as a typed result within the call's time limit,
 * reading at most 1 MB.
 */
type Script = (req: IncomingMessage, res: ServerResponse, socket: Socket) => void;

let server: Server;
let base: string;
let script: Script = (_req, res) => res.end('{}');
/** Requests the server received since the last `answer()`. */
let received: Array<{ method: string; url: string; body: string }> = [];
/** Bytes the server managed to write per connection, known once the connection closed. */
let written: number[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', body });
      script(req, res, req.socket);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      written.push(socket.bytesWritten);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  for (const s of sockets) s.destroy();
});

const SECRET = 'shared-secret-never-shown';
const creds = (url = base) => ({ apiKey: 'key-1', sharedSecret: SECRET, apiUrl: url, trackUrl: url, customerId: 'cust-1' });

function answer(next: Script): void {
  script = next;
  received = [];
  written = [];
}

function json(status: number, body: string, headers: Record<string, string> = {}): Script {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
}

async function withClient<T>(fn: (c: SailthruClient) => Promise<T>, timeoutMs = 5_000, url = base): Promise<T> {
  const client = new SailthruClient(creds(url), { timeoutMs });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function failure(res: SailthruResult): SailthruError {
  if (res.ok) throw new Error(`expected a failure, got ${JSON.stringify(res.body)}`);
  return res;
}

/** Resolves once the server has seen every connection of the last exchange close. */
async function connectionsClosed(count = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (written.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

describe('the time limit covers the whole call', () => {
  it('a body trickled one byte every 100 ms is given up at the limit, not read for ever', async () => {
    answer((_req, res, socket) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      // Far longer than the limit; each byte would restart a per-chunk timer.
      const timer = setInterval(() => res.write(' '), 100);
      socket.on('close', () => clearInterval(timer));
      setTimeout(() => clearInterval(timer), 60_000).unref();
    });
    const res = failure(await withClient((c) => c.postEvent({ id: 'u', key: 'extid', event: 'E' }), 800));
    expect(res.class).toBe('retryable');
    expect(res.status).toBe(0);
    expect(res.message).toMatch(/^No complete answer from 127\.0\.0\.1:\d+ within 800 ms \(HTTP 200; the body was still arriving, \d+ bytes so far\)$/);
    // The call ended at its limit: well before the trickle would have.
    expect(res.call.durationMs).toBeLessThan(8_000);
    await connectionsClosed();
    expect(written).toHaveLength(1);
  });

  it('headers trickled one byte at a time count too', async () => {
    answer((_req, _res, socket) => {
      const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}';
      let i = 0;
      const timer = setInterval(() => (i < head.length ? socket.write(head[i++]!) : clearInterval(timer)), 100);
      socket.on('close', () => clearInterval(timer));
    });
    const res = failure(await withClient((c) => c.postUser({ id: 'u' }), 800));
    expect(res.class).toBe('retryable');
    expect(res.message).toMatch(/^No answer from 127\.0\.0\.1:\d+ within 800 ms$/);
  });
});

describe('answers are read up to 1 MB', () => {
  const ONE_MB = 1024 * 1024;

  it('a 200 MB body without Content-Length is cut off after 1 MB and the connection closed', async () => {
    let offered = 0;
    answer((_req, res, socket) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (offered < 200 * ONE_MB && !socket.destroyed) {
          offered += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const res = failure(await withClient((c) => c.postUser({ id: 'u' })));
    expect(res).toMatchObject({ class: 'retryable', status: 200, code: null });
    expect(res.message).toMatch(/^The answer from 127\.0\.0\.1:\d+ is over the 1 MB limit \(more than 1048576 bytes\); cut off$/);
    await connectionsClosed();
    // What the server got out before the client closed: the 1 MB read plus what the kernel's
    // socket buffers took, far from 200 MB.
    expect(written[0]).toBeLessThan(32 * ONE_MB);
    expect(offered).toBeLessThan(32 * ONE_MB);
  });

  it('a body announced over 1 MB is refused without being read', async () => {
    answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * ONE_MB) });
      res.write(Buffer.alloc(64 * 1024, 0x20));
    });
    const res = failure(await withClient((c) => c.getUser({ id: 'u', key: 'extid', fields: { keys: 1 } })));
    expect(res.class).toBe('retryable');
    expect(res.message).toContain('is over the 1 MB limit (Content-Length 209715200); cut off');
  });

  it('exactly 1 MB is read; one byte more is not', async () => {
    const exactly = (size: number) => {
      const head = '{"keys":{"email":"a@b.co"},"pad":"';
      return `${head}${'x'.repeat(size - head.length - 2)}"}`;
    };
    answer(json(200, exactly(ONE_MB)));
    const fits = await withClient((c) => c.getUser({ id: 'u', key: 'extid', fields: { keys: 1 } }));
    expect(fits.ok).toBe(true);
    answer(json(200, exactly(ONE_MB + 1)));
    expect(failure(await withClient((c) => c.getUser({ id: 'u', key: 'extid', fields: { keys: 1 } }))).message).toContain('over the 1 MB limit');
  });
});

describe('a success must look like one (SPEC.md §9)', () => {
  type Call = 'GET /user' | 'POST /user' | 'DELETE /user' | 'POST /event' | 'POST /return' | 'POST /purchase' | 'POST /job' | 'GET /job' | 'page view';
  const calls: Record<Call, (c: SailthruClient) => Promise<SailthruResult>> = {
    'GET /user': (c) => c.getUser({ id: 'u', key: 'extid', fields: { keys: 1 } }),
    'POST /user': (c) => c.postUser({ id: 'u', key: 'extid' }),
    'DELETE /user': (c) => c.deleteUser({ id: 'u', key: 'extid' }),
    'POST /event': (c) => c.postEvent({ id: 'u', key: 'extid', event: 'E' }),
    'POST /return': (c) => c.postReturn({ email: 'a@b.co', items: [] }),
    'POST /purchase': (c) => c.postPurchase({ email: 'a@b.co', items: [] }),
    'POST /job': (c) => c.postJob({ job: 'update', url: 'https://x.example/f' }),
    'GET /job': (c) => c.getJob({ job_id: 'j1' }),
    'page view': (c) => c.pageView({ userIdKey: 'extid', userIdValue: 'u', url: 'https://x.example/' }),
  };
  const ALL = Object.keys(calls) as Call[];
  const HTML = '<html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>';

  // [answer, the calls it is a success for]
  const cases: Array<[string, Script, Call[]]> = [
    ['an empty 200', json(200, ''), ['page view']],
    ['a 204', (_req, res) => res.writeHead(204).end(), ['page view']],
    ['a JSON array', json(200, '[{"ok":true}]'), ['page view']],
    ['JSON null', json(200, 'null'), ['page view']],
    ['a JSON string', json(200, '"ok"'), ['page view']],
    ['an HTML 200', json(200, HTML, { 'content-type': 'text/html' }), ['page view']],
    ['{"ok": true}', json(200, '{"ok":true}'), ['POST /user', 'DELETE /user', 'POST /event', 'POST /return', 'page view']],
    ['an "error" that is no code', json(200, '{"error":"later"}'), ['page view']],
    ['{"keys": {...}}', json(200, '{"keys":{"email":"a@b.co"}}'), ['GET /user', 'POST /user', 'DELETE /user', 'POST /event', 'POST /return', 'page view']],
    ['{"keys": null}', json(200, '{"keys":null}'), ['POST /user', 'DELETE /user', 'POST /event', 'POST /return', 'page view']],
    ['{"purchase": {...}}', json(200, '{"purchase":{"_id":"p1","items":[]}}'), ['POST /user', 'DELETE /user', 'POST /event', 'POST /return', 'POST /purchase', 'page view']],
    ['{"purchase": []}', json(200, '{"purchase":[]}'), ['POST /user', 'DELETE /user', 'POST /event', 'POST /return', 'page view']],
    ['{"job_id": "..."}', json(200, '{"job_id":"j1","status":"pending"}'), ['POST /user', 'DELETE /user', 'POST /event', 'POST /return', 'POST /job', 'GET /job', 'page view']],
    ['{"job_id": ""}', json(200, '{"job_id":""}'), ['POST /user', 'DELETE /user', 'POST /event', 'POST /return', 'page view']],
  ];

  for (const [what, script, successes] of cases) {
    it(`${what}: a success only for ${successes.join(', ')}`, async () => {
      answer(script);
      for (const call of ALL) {
        const res = await withClient(calls[call]);
        if (successes.includes(call)) {
          expect(res.ok, `${what} for ${call}: ${res.ok ? '' : res.message}`).toBe(true);
          continue;
        }
        const error = failure(res);
        expect(error.class, `${what} for ${call}`).toBe('retryable');
        expect(error.message, `${what} for ${call}`).toMatch(/^unrecognised answer from Sailthru \(expected a JSON object/);
        expect(error.call.errorMessage).toBe(error.message);
      }
    });
  }

  it('says what was expected and shows the first 200 bytes, on one line', async () => {
    const body = `<html>\n<title>Proxy</title>\n${'é'.repeat(300)}</html>`;
    answer(json(200, body, { 'content-type': 'text/html' }));
    const res = failure(await withClient((c) => c.postPurchase({ email: 'a@b.co', items: [] })));
    expect(res.message.startsWith('unrecognised answer from Sailthru (expected a JSON object with "purchase", got a body that is not JSON; first 200 bytes: <html> <title>Proxy</title> éé')).toBe(true);
    expect(res.message.endsWith('é…)')).toBe(true);
    const shown = res.message.slice(res.message.indexOf('first 200 bytes: ') + 'first 200 bytes: '.length, -2);
    expect(Buffer.byteLength(shown)).toBeLessThanOrEqual(200);
    expect(res.message).not.toContain('\n');

    answer(json(200, ''));
    expect(failure(await withClient((c) => c.postUser({ id: 'u' }))).message).toBe(
      'unrecognised answer from Sailthru (expected a JSON object without "error", got an empty body)',
    );
  });

  it('an answer that echoes the request shows neither the secret nor the sig', async () => {
    // A server that quotes what it received (and, contrived, the secret itself).
    answer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<p>${SECRET}</p><p>${req.url}</p>`);
    });
    const res = failure(await withClient((c) => c.getUser({ id: 'u', key: 'extid', fields: { keys: 1 } })));
    const sig = new URL(received[0]!.url, base).searchParams.get('sig')!;
    expect(sig).toMatch(/^[0-9a-f]{32}$/);
    expect(res.message).toContain('[redacted]');
    expect(JSON.stringify(res)).not.toContain(SECRET);
    expect(JSON.stringify(res)).not.toContain(sig);
  });

  it('an error code on a 2xx still fails with that code', async () => {
    answer(json(200, '{"error":11,"errormsg":"Invalid email: x","purchase":{}}'));
    const res = failure(await withClient((c) => c.postPurchase({ email: 'x', items: [] })));
    expect(res).toMatchObject({ code: 11, class: 'permanent', message: 'Invalid email: x' });
  });
});

describe('a redirect is never followed: it pauses', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`HTTP ${status}`, async () => {
      answer((req, res) => {
        res.writeHead(status, { location: `https://elsewhere.example${req.url}` });
        res.end();
      });
      const res = failure(await withClient((c) => c.getUser({ id: 'u', key: 'extid', fields: { keys: 1 } })));
      expect(res).toMatchObject({ class: 'redirect', status, code: null });
      expect(res.message).toBe(
        `the API URL redirects: check apiUrl/trackUrl (apiUrl ${base} answered with a redirect to https://elsewhere.example/user)`,
      );
      // Not followed, and the target's query (api_key, sig) is not quoted.
      expect(received).toHaveLength(1);
      expect(res.message).not.toContain('sig');
    });
  }

  it('a page view names trackUrl', async () => {
    answer((_req, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    const res = failure(await withClient((c) => c.pageView({ userIdKey: 'extid', userIdValue: 'u', url: 'https://x.example/' })));
    expect(res.class).toBe('redirect');
    expect(res.message).toContain(`(trackUrl ${base} answered with a redirect to ${base}/elsewhere)`);
  });
});

describe('broken connections and bytes that are not HTTP', () => {
  it('a connection reset in the middle of the body', async () => {
    answer((_req, res, socket) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"ok":tr');
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
    const res = failure(await withClient((c) => c.postUser({ id: 'u' })));
    expect(res).toMatchObject({ class: 'retryable', status: 0 });
    expect(res.message).toMatch(/^The connection to 127\.0\.0\.1:\d+ broke in the middle of the answer \(HTTP 200, 8 bytes of the body read\): \S+$/);
  });

  it('non-HTTP bytes (a TLS alert, then random bytes)', async () => {
    answer((_req, _res, socket) => {
      socket.end(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46, 0x00, 0xff, 0x13, 0x37]));
    });
    const res = failure(await withClient((c) => c.postEvent({ id: 'u', key: 'extid', event: 'E' })));
    expect(res).toMatchObject({ class: 'retryable', status: 0 });
    expect(res.message).toMatch(/^127\.0\.0\.1:\d+ answered with bytes that are not HTTP \(.+\)$/);
  });

  it('an https URL at a server that speaks no TLS', async () => {
    answer(json(200, '{"ok":true}'));
    const res = failure(await withClient((c) => c.postUser({ id: 'u' }), 5_000, base.replace('http:', 'https:')));
    expect(res).toMatchObject({ class: 'retryable', status: 0 });
    expect(res.message).toMatch(/^Could not reach 127\.0\.0\.1:\d+: \S+$/);
  });
});
