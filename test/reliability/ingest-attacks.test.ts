import Database from 'better-sqlite3';
import { request } from 'node:http';
import { deflateRawSync, deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_CONTEXT_BYTES } from '../../src/segment/limits.ts';
import { basic, startStack, type Stack } from '../e2e/harness.ts';
import { reportFigures } from './support/figures.ts';

// Attacks on ingest found by an attacker review (issue 15, "Hardening"): each is sent to a real
// service over HTTP (SQLite store, delivery on against the emulator) and what got stored is read
// back from the database file. docs/reliability.md, "Attacks tried", lists them.

let stack: Stack;
let db: Database.Database;

beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
  db = new Database(join(stack.dir, 'e2e.db'), { readonly: true, fileMustExist: true });
});
afterAll(async () => {
  db?.close();
  await stack?.stop();
});

const auth = () => basic(stack.writeKey);
const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${stack.service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(), ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) }).then(
    async (response) => ({ status: response.status, json: (await response.json()) as { code?: string; message?: string; rejected?: Array<{ reason: string }> } }),
  );

/** Stored bytes (payload as the store keeps it) and rows of the events whose messageId starts with `prefix`. */
function stored(prefix: string): { rows: number; bytes: number } {
  const row = db
    .prepare("SELECT count(*) AS rows, coalesce(sum(length(CAST(payload AS BLOB))), 0) AS bytes FROM events WHERE message_id LIKE ? || '%'")
    .get(prefix) as { rows: number; bytes: number };
  return row;
}

/** A context of about `bytes` bytes as JSON, the way a mobile library's looks. */
function contextOf(bytes: number): Record<string, unknown> {
  return { library: { name: 'attack', version: '1.0.0' }, device: { id: 'd-1', padding: 'x'.repeat(Math.max(0, bytes - 80)) } };
}

function eventsOf(prefix: string, count: number, eventBytes: number): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => {
    const event = { type: 'track', event: 'Viewed', userId: `${prefix}-u${i % 7}`, messageId: `${prefix}-${i}`, timestamp: '2026-03-01T12:00:00.000Z' };
    const pad = Math.max(0, eventBytes - JSON.stringify(event).length - 24);
    return pad > 0 ? { ...event, properties: { p: 'y'.repeat(pad) } } : event;
  });
}

describe('batch context amplification', () => {
  it('refuses a large batch context copied into thousands of tiny events (413), storing nothing', async () => {
    const context = contextOf(MAX_BATCH_CONTEXT_BYTES - 500);
    const batch = eventsOf('amp-attack', 2_500, 0);
    const body = JSON.stringify({ batch, context });
    expect(Buffer.byteLength(body)).toBeLessThan(500 * 1024);
    const answer = await post('/v1/batch', body);
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('INGEST_BATCH_CONTEXT_TOO_LARGE');
    expect(answer.json.message).toMatch(/copied into its 2500 events would add \d+ bytes, over 3× the request's \d+ bytes/);
    expect(stored('amp-attack').rows).toBe(0);
    // The same through /v1/import, RudderStack's beacon and a {"batch"} webhook.
    for (const path of ['/v1/import', `/beacon/v1/batch?writeKey=${stack.writeKey}`, '/v1/webhook']) {
      const again = await post(path, body, path.startsWith('/beacon') ? { authorization: '' } : {});
      expect(again.status, path).toBe(413);
      expect(again.json.code, path).toBe('INGEST_BATCH_CONTEXT_TOO_LARGE');
    }
    expect(stored('amp-attack').rows).toBe(0);
  });

  it('refuses a batch context over 16 KB even for one event', async () => {
    const answer = await post('/v1/batch', JSON.stringify({ batch: eventsOf('amp-big', 1, 0), integrations: { Sailthru: { x: 'z'.repeat(MAX_BATCH_CONTEXT_BYTES) } } }));
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('INGEST_BATCH_CONTEXT_TOO_LARGE');
    expect(answer.json.message).toMatch(/^The batch's "context" and "integrations" are \d+ bytes as JSON, over the limit of 16 KB \(16384 bytes\)/);
    expect(stored('amp-big').rows).toBe(0);
  });

  it('stores any accepted batch in at most 4× its request bytes (plus the fields ingest adds), across shapes', async () => {
    const figures: Record<string, number> = {};
    let accepted = 0;
    let refused = 0;
    let worst = 0;
    let shape = 0;
    for (const contextBytes of [200, 1_000, 4_000, 12_000]) {
      for (const count of [1, 10, 100, 1_000]) {
        for (const eventBytes of [120, 400, 2_000]) {
          const prefix = `amp-shape${shape++}-`;
          const body = JSON.stringify({ batch: eventsOf(prefix, count, eventBytes), context: contextOf(contextBytes) });
          const requestBytes = Buffer.byteLength(body);
          if (requestBytes > 500 * 1024) continue;
          const answer = await post('/v1/batch', body);
          const { rows, bytes } = stored(prefix);
          if (answer.status === 200) {
            accepted++;
            expect(rows).toBe(count);
            // receivedAt (about 40 bytes) is the one field ingest adds to an event that came with
            // its messageId and timestamp.
            expect(bytes, `${prefix}: ${bytes} stored of ${requestBytes}`).toBeLessThanOrEqual(4 * requestBytes + 64 * count);
            worst = Math.max(worst, bytes / requestBytes);
          } else {
            refused++;
            expect(answer.status, prefix).toBe(413);
            expect(answer.json.code).toBe('INGEST_BATCH_CONTEXT_TOO_LARGE');
            expect(rows).toBe(0);
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(3);
    figures['worst stored/request ratio of an accepted batch'] = Math.round(worst * 100) / 100;
    figures['shapes accepted'] = accepted;
    figures['shapes refused'] = refused;
    reportFigures('batch context amplification', figures);
  });

  it('refuses a batch context nested deeper than an event may be (400), however deep', async () => {
    for (const depth of [64, 100_000]) {
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const body = `{"batch":[{"type":"track","event":"e","userId":"u","messageId":"amp-deep-${depth}"}],"context":{"x":${deep}}}`;
      const answer = await post('/v1/batch', body);
      expect(answer.status, String(depth)).toBe(400);
      expect(answer.json.code).toBe('INGEST_BATCH_CONTEXT_TOO_DEEP');
      expect(answer.json.message).toBe(`The batch's "context" or "integrations" nests objects or arrays deeper than an event may (64 levels, counting the event)`);
    }
    // One level less fits: the event is 64 levels deep with it.
    const fits = `{"batch":[{"type":"track","event":"e","userId":"u","messageId":"amp-deep-ok"}],"context":{"x":${'['.repeat(62)}${']'.repeat(62)}}}`;
    expect((await post('/v1/batch', fits)).status).toBe(200);
    expect(stored('amp-deep').rows).toBe(1);
  });
});

describe('deeply nested JSON anywhere', () => {
  const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  it('answers 4xx (or refuses the one event, naming it), never 5xx, and keeps serving', async () => {
    const cases: Array<{ name: string; path: string; body: string; expect: (a: Awaited<ReturnType<typeof post>>) => void }> = [
      { name: 'body of 100,000 arrays', path: '/v1/batch', body: arrays(100_000), expect: (a) => expect(a.json.code).toBe('INGEST_INVALID_BODY') },
      {
        name: '250,000 unclosed arrays',
        path: '/v1/batch',
        body: '['.repeat(250_000),
        expect: (a) => expect(a.json.message).toBe('Invalid JSON: unexpected end of input at position 250000'),
      },
      {
        name: 'batch item of 100,000 arrays',
        path: '/v1/batch',
        body: `{"batch":[${arrays(100_000)},{"type":"track","event":"e","userId":"u","messageId":"deep-sibling"}]}`,
        expect: (a) => expect(a.json.rejected?.[0]?.reason).toBe('the event must be a JSON object, not an array'),
      },
      {
        name: 'properties of 100,000 arrays',
        path: '/v1/track',
        body: `{"type":"track","event":"e","userId":"u","properties":{"x":${arrays(100_000)}}}`,
        expect: (a) => expect(a.json.rejected?.[0]?.reason).toBe('the event nests objects or arrays deeper than 64 levels'),
      },
      {
        name: 'traits of 80,000 objects',
        path: '/v1/batch',
        body: `{"batch":[{"type":"identify","userId":"u","traits":${objects(80_000)}}]}`,
        expect: (a) => expect(a.json.rejected?.[0]?.reason).toBe('the event nests objects or arrays deeper than 64 levels'),
      },
      {
        name: 'webhook array holding 100,000 arrays',
        path: '/v1/webhook',
        body: `[${arrays(100_000)}]`,
        expect: (a) => expect(a.json.rejected?.[0]?.reason).toBe('the event must be a JSON object, not an array'),
      },
      { name: 'integrations of 100,000 arrays', path: '/v1/import', body: `{"batch":[],"integrations":{"x":${arrays(100_000)}}}`, expect: (a) => expect(a.json.code).toBe('INGEST_BATCH_CONTEXT_TOO_DEEP') },
    ];
    for (const c of cases) {
      const answer = await post(c.path, c.body);
      expect(answer.status, c.name).toBeLessThan(500);
      expect(answer.status, c.name).toBeGreaterThanOrEqual(200);
      c.expect(answer);
    }
    // The good event beside the deep one was stored, and the server still answers.
    expect(stored('deep-sibling').rows).toBe(1);
    expect((await fetch(`${stack.service.url}/healthz`)).status).toBe(200);
    // What was refused is in the delivery log as a summary, not the (unserialisable) value.
    const refused = db.prepare("SELECT payload FROM events WHERE status = 'rejected' AND payload LIKE '%omitted%'").all() as Array<{ payload: string }>;
    expect(refused.length).toBeGreaterThanOrEqual(4);
    for (const row of refused) expect(row.payload.length).toBeLessThan(2_000);
  });

  it('answers the admin event tester with a 4xx for a deep event', async () => {
    const response = await fetch(`${stack.service.url}/api/test-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` },
      body: `{"event":{"type":"track","event":"e","userId":"u","properties":{"x":${arrays(100_000)}}}}`,
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.text()).toMatch(/deeper than 64 levels|nested too deep/);
  });
});


describe('charsets and compression on the wire', () => {
  /** Posts `parts` as separate chunks with a pause between, as a slow client's first byte comes alone. */
  function postInChunks(path: string, parts: Buffer[], headers: Record<string, string>): Promise<{ status: number; json: { code?: string; message?: string } }> {
    const url = new URL(path, stack.service.url);
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string; message?: string } }));
      });
      req.on('error', reject);
      const next = (i: number): void => {
        if (i === parts.length) {
          req.end();
          return;
        }
        req.write(parts[i]!);
        // Waits until the chunk is on the wire and a little more, so the server reads it alone.
        setTimeout(() => next(i + 1), 150);
      };
      req.flushHeaders();
      next(0);
    });
  }

  it('decodes charset=windows-1252 (and the Latin-1 labels, which mean it) with its typographic characters', async () => {
    const text = '€ “quoted” ‘single’ – — … ™ Œ œ Š š Ÿ ƒ † ‡ • ‰ ‹ › ˆ ˜ ž Ž café';
    for (const [i, label] of ['windows-1252', 'ISO-8859-1', 'latin1', 'us-ascii', 'cp1252'].entries()) {
      const json = JSON.stringify({ batch: [{ type: 'track', event: 'Typed', userId: 'cs-u', messageId: `cs-1252-${i}`, properties: { text } }] });
      const bytes = encodeWindows1252(json);
      const answer = await post('/v1/batch', bytes, { 'content-type': `application/json; charset=${label}` });
      expect(answer.status, label).toBe(200);
      const row = db.prepare('SELECT payload FROM events WHERE message_id = ?').get(`cs-1252-${i}`) as { payload: string };
      expect((JSON.parse(row.payload) as { properties: { text: string } }).properties.text, label).toBe(text);
    }
    const unknown = await post('/v1/batch', '{"batch":[]}', { 'content-type': 'application/json; charset=x-klingon' });
    expect(unknown.status).toBe(415);
    expect(unknown.json.code).toBe('INGEST_UNSUPPORTED_CHARSET');
  });

  it('reads zlib-wrapped and raw deflate alike, even when the first byte arrives alone', async () => {
    const body = (id: string) => JSON.stringify({ batch: [{ type: 'track', event: 'Packed', userId: 'zz-u', messageId: id }] });
    for (const [id, packed] of [
      ['deflate-zlib-split', deflateSync(body('deflate-zlib-split'))],
      ['deflate-raw-split', deflateRawSync(body('deflate-raw-split'))],
    ] as const) {
      const answer = await postInChunks('/v1/batch', [packed.subarray(0, 1), packed.subarray(1, 2), packed.subarray(2)], { 'content-encoding': 'deflate' });
      expect(answer.status, id).toBe(200);
      expect(stored(id).rows, id).toBe(1);
    }
  });

  it('answers 400 naming the problem for a cut-off, a garbage or a one-byte deflate body', async () => {
    const whole = deflateSync(JSON.stringify({ batch: [{ type: 'track', event: 'Cut', userId: 'zz-u', messageId: 'deflate-cut' }] }));
    const raw = deflateRawSync(JSON.stringify({ batch: [{ type: 'track', event: 'Cut', userId: 'zz-u', messageId: 'deflate-cut-raw' }] }));
    const cases: Array<[string, Buffer, RegExp]> = [
      ['zlib cut off', whole.subarray(0, whole.length - 6), /^The deflate body ends before its compressed data does \(cut off\?\)/],
      ['raw cut off', raw.subarray(0, raw.length - 6), /^The deflate body ends before its compressed data does \(cut off\?\)/],
      ['garbage', Buffer.from('this is not deflate at all, only text'), /^The body is not valid deflate data/],
      ['one byte', Buffer.from([0x78]), /^The deflate body ends before its compressed data does/],
    ];
    for (const [name, bytes, message] of cases) {
      const answer = await post('/v1/batch', bytes, { 'content-encoding': 'deflate' });
      expect(answer.status, name).toBe(400);
      expect(answer.json.code, name).toBe('INGEST_INVALID_COMPRESSION');
      expect(answer.json.message, name).toMatch(message);
    }
    expect(stored('deflate-cut').rows).toBe(0);
  });
});

/** The inverse of WHATWG's windows-1252 for the characters the test uses. */
function encodeWindows1252(text: string): Buffer {
  const high = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
  return Buffer.from(
    [...text].map((c) => {
      const at = high.indexOf(c);
      if (at >= 0) return 0x80 + at;
      const code = c.charCodeAt(0);
      if (code > 0xff) throw new Error(`not in windows-1252: ${c}`);
      return code;
    }),
  );
}
