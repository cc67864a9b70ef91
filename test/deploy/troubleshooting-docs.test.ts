import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { RetryPolicy } from '../../src/delivery/retry-policy.ts';
import { createDestination, type Destination } from '../../src/destination/index.ts';
import { resultOfError } from '../../src/destination/sailthru-port.ts';
import { validateSettings, type DestinationSettings } from '../../src/destination/settings.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { SailthruClient } from '../../src/sailthru/client.ts';
import type { SailthruError } from '../../src/sailthru/types.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { ERROR_CODES } from '../../src/server/error-codes.ts';
import { ingestRoutes } from '../../src/server/ingest.ts';
import { createLogger } from '../../src/server/logger.ts';
import { startService, type Service } from '../../src/server/service.ts';
import { quoted, readRepoFile } from './support.ts';

// docs/troubleshooting.md quotes messages exactly, with `…` for what varies. These tests make the
// real code say each message (over HTTP where a client would meet it) and look for it in the doc.

const doc = readRepoFile('docs/troubleshooting.md');
const WRITE_KEY = 'docs-write-key';

function expectDocumented(message: string): void {
  expect(doc.includes(`\`${message}`), `the doc quotes: ${message}`).toBe(true);
}

describe('every message in the code is in the doc', () => {
  // Messages an operator cannot meet: the ingest layer refuses such events before delivery sees
  // them, or only library callers passing values JSON cannot hold (NaN, Dates, cycles) reach them.
  const UNREACHABLE = new Set([
    'not a Segment event: expected a JSON object',
    'event has neither userId nor anonymousId',
    'track event has no name (the event field is missing or empty)',
    'alias requires previousId (the id being merged into userId)',
    '${prefix}"${key}" dropped: ${String(value)} is not a JSON number',
    '${prefix}"${key}" dropped: invalid date',
    '${prefix}"${where}" dropped: it contains itself',
    '${prefix}"${where}" dropped: nested deeper than ${MAX_DEPTH} levels',
  ]);
  const FILES = [
    'src/server/ingest.ts',
    'src/server/ingest-body.ts',
    'src/server/admin-api.ts',
    'src/segment/normalize.ts',
    'src/segment/batch-context.ts',
    'src/segment/event-rules.ts',
    'src/segment/safe-json.ts',
    'src/config.ts',
    'src/delivery/open-store.ts',
    'src/delivery/postgres/migrate.ts',
    'src/delivery/retry-policy.ts',
    'src/delivery/destinations.ts',
    'src/delivery/worker.ts',
    ...readdirSync(new URL('../../src/destination/', import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => `src/destination/${f}`),
    ...readdirSync(new URL('../../src/destination/actions/', import.meta.url)).map((f) => `src/destination/actions/${f}`),
  ];
  // A string or template literal right after a place that makes a message of it.
  const MESSAGE =
    /(?:reason:|error:|warning:|failure\(|failed\(|skipped\(|reject\(|push\(|warn\(|IngestRefusal\(\s*'[A-Z_]+',|ConfigError\(|throw new Error\(|export const [A-Z_]+ =)\s*(['`])((?:\\.|(?!\1)[^\\])*)\1/g;

  it('documents every error code, with its HTTP status', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });

  it('finds the messages of every layer', () => {
    const found = FILES.flatMap((file) => [...readRepoFile(file).matchAll(MESSAGE)].map((m) => m[2]!));
    expect(found.length).toBeGreaterThan(90);
  });

  for (const file of FILES) {
    it(file, () => {
      for (const [, , text] of readRepoFile(file).matchAll(MESSAGE)) {
        if (text!.length < 8 || !text!.includes(' ') || UNREACHABLE.has(text!)) continue;
        // The fixed parts between the varying ones, each of which the doc must quote.
        const fixed = text!
          .split(/\$\{(?:[^{}]|\{[^}]*\})*(?:\}|$)/)
          .map((part) => part.replace(/\\(.)/g, '$1'))
          .filter((part) => /[a-z]{3}/i.test(part));
        for (const part of fixed) expect(doc.includes(part), `"${part}" of ${file}: ${text}`).toBe(true);
      }
    });
  }
});

describe('ingest answers, over HTTP', () => {
  let dir: string;
  let service: Service;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'st-trouble-'));
    const config = loadConfig({
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      PORT: '0',
      HOST: '127.0.0.1',
      WRITE_KEYS: WRITE_KEY,
      WEBHOOK_SECRET: 'docs-webhook-secret',
      SAILTHRU_API_KEY: 'k',
      SAILTHRU_SECRET: 'docs-shared-secret',
      SECRETS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      ADMIN_TOKEN: 'docs-admin-token-0123456789',
      CORS_ORIGINS: 'https://shop.example.com',
    });
    service = await startService(config, { ingest: true, delivery: false }, { logger: createLogger('silent') });
  });
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(path: string, body: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`, ...headers },
      body,
    });
    return { status: response.status, body: (await response.json()) as { error?: string; rejected?: Array<{ reason: string }> } };
  }

  it('400: bodies that cannot be read', async () => {
    const cases: Array<[string, string, (message: string) => string]> = [
      ['/v1/batch', '', (m) => m],
      ['/v1/batch', '{"batch": [', (m) => quoted(m, 'unexpected end of input', '11')],
      ['/v1/batch', JSON.stringify({ batch: Array.from({ length: 2501 }, () => ({})) }), (m) => quoted(m, '2501')],
      ['/v1/batch', '[]', (m) => quoted(m, 'an array')],
      ['/v1/batch', '{}', (m) => m],
      ['/v1/batch', '{"batch": {}}', (m) => quoted(m, 'an object')],
      ['/v1/batch', '{"batch": [], "context": 1}', (m) => quoted(m, 'a number')],
      ['/v1/batch', '{"batch": [], "integrations": "x"}', (m) => quoted(m, 'a string')],
      ['/v1/track', '[]', (m) => quoted(m, 'an array')],
      ['/v1/webhook', '"x"', (m) => quoted(m, 'a string')],
    ];
    for (const [path, body, asQuoted] of cases) {
      const answer = await post(path, body);
      expect(answer.status, body.slice(0, 40)).toBe(400);
      expectDocumented(asQuoted(answer.body.error!));
    }
  });

  it('400 and 413: what a compressed or mis-encoded body gets', async () => {
    const cases: Array<[number, string, string | Uint8Array<ArrayBuffer>, Record<string, string>, (message: string) => string]> = [
      [413, '/v1/batch', JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'E', properties: { pad: 'x'.repeat(600_000) } }] }), {}, (m) => m],
      [413, '/v1/batch', new Uint8Array(gzipSync(' '.repeat(600_000))), { 'content-encoding': 'gzip' }, (m) => m],
      [413, '/v1/track', JSON.stringify({ userId: 'u', event: 'E', properties: { pad: 'x'.repeat(40_000) } }), {}, (m) => m],
      [400, '/v1/batch', 'not gzip', { 'content-encoding': 'gzip' }, (m) => quoted(m, 'gzip', 'gzip')],
      [400, '/v1/batch', new Uint8Array([0x7b, 0xe9, 0x7d]), {}, (m) => m],
      [415, '/v1/batch', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }, (m) => m],
    ];
    for (const [status, path, body, headers, asQuoted] of cases) {
      const response = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`, ...headers },
        body: typeof body === 'string' ? body : new Blob([body]),
      });
      expect(response.status, path).toBe(status);
      const answer = (await response.json()) as { error: string; code: string };
      expect(ERROR_CODES[answer.code as keyof typeof ERROR_CODES].status).toBe(status);
      expectDocumented(asQuoted(answer.error));
    }
  });

  it('401, 403 and 415: credentials, origins and content types', async () => {
    const signature = 'f'.repeat(40);
    const cases: Array<[number, string, Record<string, string>]> = [
      [401, '/v1/track', { authorization: '' }],
      [401, '/v1/track', { authorization: `Basic ${Buffer.from('not-a-key:').toString('base64')}` }],
      [401, '/v1/webhook', { authorization: '' }],
      [401, '/v1/webhook', { authorization: '', 'x-signature': signature }],
      [415, '/v1/track', { 'content-type': 'text/html' }],
      [415, '/v1/track', { 'content-encoding': 'br' }],
      [415, '/v1/track', { 'content-type': 'application/json; charset=klingon' }],
      [403, '/v1/track', { origin: 'https://not-allowed.example' }],
    ];
    for (const [status, path, headers] of cases) {
      const answer = await post(path, JSON.stringify({ userId: 'u', event: 'E' }), headers);
      expect(answer.status, JSON.stringify(headers)).toBe(status);
      const varying = headers['content-encoding'] ?? (headers['content-type']?.includes('charset') ? 'klingon' : undefined);
      expectDocumented(varying === undefined ? answer.body.error! : quoted(answer.body.error!, varying));
    }
  });

  it('200 with refused events: each reason', async () => {
    const events = [
      { type: 'track', event: 'No ids' },
      { type: 'track', userId: 'u' },
      { type: 'alias', userId: 'u' },
      { userId: 'u', event: 'No type' },
      { type: 'bogus', userId: 'u' },
      { type: 'delete', userId: 'u' },
      { type: 7, userId: 'u' },
      { type: 'track', userId: ['u'], event: 'E' },
      { type: 'track', userId: 'u', event: 5 },
      { type: 'track', userId: 'u', event: 'E', properties: [] },
      'not an event',
    ];
    const answer = await post('/v1/batch', JSON.stringify({ batch: events }));
    expect(answer.status).toBe(200);
    const reasons = answer.body.rejected!.map((r) => r.reason);
    expect(reasons).toHaveLength(events.length);
    const asQuoted = [
      (m: string) => m,
      (m: string) => m,
      (m: string) => m,
      (m: string) => m,
      (m: string) => quoted(m, 'bogus'),
      (m: string) => m,
      (m: string) => quoted(m, 'a number'),
      (m: string) => quoted(m, 'userId', 'an array'),
      (m: string) => quoted(m, 'event', 'a number'),
      (m: string) => quoted(m, 'properties', 'an array'),
      (m: string) => quoted(m, 'a string'),
    ];
    reasons.forEach((reason, i) => expectDocumented(asQuoted[i]!(reason)));
  });

  it('admin API refusals', async () => {
    for (const authorization of ['', 'Bearer wrong-token']) {
      const response = await fetch(`${service.url}/api/overview`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expectDocumented(((await response.json()) as { error: string }).error);
    }
  });
});

describe('ingest answers when the store fails or the server stops, over HTTP', () => {
  let app: FastifyInstance;
  let url: string;
  const state = { backlog: 0, shuttingDown: false, failStore: false, failKeys: false, failBacklog: false };

  beforeAll(async () => {
    app = Fastify();
    await app.register(ingestRoutes, {
      maxBacklog: 10,
      isShuttingDown: () => state.shuttingDown,
      backlogMaxAgeMs: 0,
      writeKeys: {
        destinationFor: async (key) => {
          if (state.failKeys) throw new Error('store down');
          return key === WRITE_KEY ? 'main' : null;
        },
      },
      sink: {
        append: async () => {
          if (state.failStore) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
          return { stored: 1, duplicates: 0 };
        },
        backlog: async () => {
          if (state.failBacklog) throw new Error('store down');
          return state.backlog;
        },
      },
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  async function track(): Promise<{ status: number; retryAfter: string | null; error: string }> {
    const response = await fetch(`${url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
      body: JSON.stringify({ userId: 'u', event: 'E' }),
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), error: ((await response.json()) as { error: string }).error };
  }

  it('429 over MAX_BACKLOG, 503 for each failure, all with Retry-After', async () => {
    const cases: Array<[keyof typeof state, number | boolean, number, (m: string) => string]> = [
      ['backlog', 11, 429, (m) => m],
      ['failStore', true, 503, (m) => quoted(m, 'SQLITE_FULL')],
      ['failBacklog', true, 503, (m) => m],
      ['failKeys', true, 503, (m) => m],
      ['shuttingDown', true, 503, (m) => m],
    ];
    for (const [field, value, status, asQuoted] of cases) {
      const before = state[field];
      Object.assign(state, { [field]: value });
      const answer = await track();
      Object.assign(state, { [field]: before });
      expect(answer.status, field).toBe(status);
      expect(answer.retryAfter, field).toBe('5');
      expectDocumented(asQuoted(answer.error));
    }
  });
});

describe('delivery outcomes, against the emulator', () => {
  let emulator: RunningEmulator;
  let settings: DestinationSettings;
  let destination: Destination;
  let withoutCustomer: Destination;
  let n = 0;

  const event = (fields: Partial<SegmentEvent> & Pick<SegmentEvent, 'type'>): SegmentEvent => ({
    messageId: `docs-${++n}`,
    timestamp: '2024-05-01T10:00:00.000Z',
    ...fields,
  });

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, apiKey: 'docs-key', secret: 'docs-secret', customerId: 'docs-customer' });
    settings = {
      apiKey: 'docs-key',
      sharedSecret: 'docs-secret',
      customerId: 'docs-customer',
      optoutValue: 'none',
      deletionFromEvents: 'signed',
      apiUrl: emulator.url,
      trackUrl: emulator.url,
    };
    destination = createDestination(settings);
    const { customerId: _customerId, ...noCustomer } = settings;
    withoutCustomer = createDestination(noCustomer);
  });
  afterAll(async () => {
    await destination?.close();
    await withoutCustomer?.close();
    await emulator?.close();
  });

  async function reason(d: Destination, e: SegmentEvent, state = 'failed'): Promise<string> {
    const outcome = await d.deliver(e);
    expect(outcome.state, JSON.stringify(outcome)).toBe(state);
    return (outcome as { reason: string }).reason;
  }

  it('dead letters from the mapping and from Sailthru', async () => {
    const product = { product_id: 'sku-1', price: 5, url: 'https://shop.example.com/p/sku-1' };
    const known = await destination.deliver(event({ type: 'identify', userId: 'with-email', traits: { email: 'ann@example.com' } }));
    expect(known.state).toBe('delivered');

    expectDocumented(await reason(destination, event({ type: 'track', userId: 'u', event: 'send' })).then((m) => quoted(m, 'send')));
    expectDocumented(await reason(withoutCustomer, event({ type: 'page', userId: 'u', properties: { url: 'https://x.example/' } })));
    expectDocumented(await reason(destination, event({ type: 'page', userId: 'u' })));
    expectDocumented(await reason(destination, event({ type: 'track', anonymousId: 'anon', event: 'Product Added', properties: product })));
    expectDocumented(await reason(destination, event({ type: 'track', userId: 'u', event: 'Product Added', properties: { price: 5 } })));
    expectDocumented(
      await reason(destination, event({ type: 'track', userId: 'u', event: 'Product Added', properties: { product_id: 'sku-2' } })).then((m) =>
        quoted(m, 'sku-2', 'properties', 'properties'),
      ),
    );
    expectDocumented(
      await reason(destination, event({ type: 'track', userId: 'nobody', event: 'Order Completed', properties: { products: [product] } })).then((m) =>
        quoted(m, 'nobody'),
      ),
    );
    expectDocumented(await reason(destination, event({ type: 'track', userId: 'with-email', event: 'Product Removed', properties: product })));
    expectDocumented(await reason(destination, event({ type: 'track', userId: 'with-email', event: 'Order Completed', properties: { products: [] } })));

    // Error 11 from Sailthru (HTTP 200 with an error body): the code, its words and the hint.
    // The mapping leaves implausible addresses out (SPEC.md §0), so the client itself provokes it.
    const client = new SailthruClient({ apiKey: 'docs-key', sharedSecret: 'docs-secret', apiUrl: emulator.url });
    const refused = await client.postUser({ id: 'bad-email', key: 'extid', keys: { email: 'not-an-email' } });
    await client.close();
    const invalid = refused.ok ? 'not refused' : (resultOfError(refused) as { reason: string }).reason;
    const match = /^(Sailthru refused POST \/user: error 11: )(.+)( \(HTTP 200\))(; .+)$/.exec(invalid)!;
    expect(match, invalid).not.toBeNull();
    expectDocumented(quoted(`${match[1]}${match[2]}${match[3]}`, 'POST', '/user', '11', match[2]!, '200'));
    expect(doc).toContain(`hint \`${match[4]}\``);
  });

  it('skips', async () => {
    expectDocumented(await reason(destination, event({ type: 'screen', userId: 'u', name: 'Home' }), 'skipped'));
    expectDocumented(await reason(destination, event({ type: 'group', userId: 'u', groupId: 'g' }), 'skipped'));
    expectDocumented(
      await reason(destination, event({ type: 'track', userId: 'u', event: 'E', integrations: { Sailthru: false } }), 'skipped'),
    );
    expectDocumented(await reason(destination, event({ type: 'delete', userId: 'never-seen', authenticatedBy: 'admin' }), 'skipped').then((m) => quoted(m, 'never-seen')));
    expectDocumented(
      await reason(destination, event({ type: 'delete', userId: 'never-seen', authenticatedBy: 'write-key' }), 'skipped').then((m) => quoted(m, 'with a write key')),
    );
  });

  it('retries, with the network\'s words', async () => {
    // Port 9 on loopback: nothing listens, the connection is refused.
    const client = new SailthruClient({ apiKey: 'k', sharedSecret: 's', apiUrl: 'http://127.0.0.1:9' });
    try {
      const result = await client.postEvent({ id: 'u', key: 'extid', event: 'E' });
      expect(result.ok).toBe(false);
      const retry = resultOfError(result as SailthruError);
      expect(retry.state).toBe('retry');
      const text = (retry as { reason: string }).reason;
      const after = text.slice(text.indexOf('will retry: ') + 'will retry: '.length);
      expectDocumented(quoted(text.slice(0, text.indexOf('will retry: ') + 'will retry:'.length), 'POST', '/event'));
      expectDocumented(quoted(after, '127.0.0.1:9', after.slice(after.lastIndexOf(': ') + 2)));
    } finally {
      await client.close();
    }
    const policy = new RetryPolicy({ random: () => 0 });
    const gaveUp = policy.decide({ attempts: 9, firstAttemptAt: new Date(0), now: new Date(5 * 3_600_000), reason: 'Sailthru said no' });
    expect(gaveUp.retry).toBe(false);
    expectDocumented(quoted((gaveUp as { reason: string }).reason, '9', '5', 'Sailthru said no'));
  });

  it('dead letters Sailthru refuses: every hint is quoted next to its code', () => {
    const refusal = (code: number): string => {
      const error: SailthruError = {
        ok: false,
        status: 400,
        code,
        message: 'words',
        class: 'permanent',
        call: { method: 'POST', endpoint: '/purchase', payload: {}, status: 400, durationMs: 1 },
      };
      const failed = resultOfError(error);
      expect(failed.state).toBe('failed');
      return (failed as { reason: string }).reason;
    };
    const plain = refusal(99);
    expectDocumented(quoted(plain, 'POST', '/purchase', '99', 'words', '400'));
    for (const code of [11, 14, 15, 18, 32]) {
      const text = refusal(code);
      expect(text.startsWith(`${plain.replace('99', String(code))}; `), text).toBe(true);
      expect(doc).toMatch(new RegExp(`\\| error ${code}[^|]*hint \`${escapeRegExp(text.slice(plain.length))}\``));
    }
  });

  it('pauses: account-wide Sailthru errors and invalid settings', () => {
    for (const [code, status] of [[3, 401], [5, 401], [4, 403], [21, 400]] as const) {
      const error: SailthruError = {
        ok: false,
        status,
        code,
        message: 'words',
        class: 'account',
        call: { method: 'POST', endpoint: '/user', payload: {}, status, durationMs: 1 },
      };
      const paused = resultOfError(error);
      expect(paused.state).toBe('paused');
      expectDocumented(quoted((paused as { reason: string }).reason, 'POST', '/user', String(code), 'words', String(status)));
      expect(doc).toContain(`| error ${code}`);
    }
    const checked = validateSettings({ optoutValue: 'sometimes', reminderTime: 'soon', cartExpiryHours: -1, apiUrl: 'ftp://x' });
    expect(checked.ok).toBe(false);
    const problems = (checked as { errors: string[] }).errors;
    expect(problems).toHaveLength(6);
    const asQuoted: Record<string, (m: string) => string> = {
      apiKey: (m) => m,
      sharedSecret: (m) => m,
      optoutValue: (m) => quoted(m, 'sometimes'),
      reminderTime: (m) => quoted(m, 'soon'),
      cartExpiryHours: (m) => quoted(m, '-1'),
      apiUrl: (m) => quoted(m, 'apiUrl', 'ftp://x'),
    };
    for (const problem of problems) expectDocumented(asQuoted[problem.split(' ')[0]!]!(problem));
  });
});

describe('answers Sailthru never gives, from a scripted server (SPEC.md §9)', () => {
  type Script = (res: ServerResponse, url: string) => void;
  let script: Script = (res) => res.end('{}');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => script(res, req.url ?? '/'));
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** The retry or pause reason an event gets when its POST /purchase is answered by `next`. */
  async function reasonFor(next: Script, timeoutMs = 5_000): Promise<{ state: string; reason: string }> {
    script = next;
    const client = new SailthruClient({ apiKey: 'k', sharedSecret: 'docs-secret', apiUrl: base }, { timeoutMs });
    try {
      const result = await client.postPurchase({ email: 'a@b.co', items: [] });
      expect(result.ok).toBe(false);
      return resultOfError(result as SailthruError) as { state: string; reason: string };
    } finally {
      await client.close();
    }
  }
  const host = () => base.slice('http://'.length);
  /** The part after "will retry: ", without the trailing " (HTTP …)". */
  const retried = (r: { state: string; reason: string }): string => {
    expect(r.state).toBe('retry');
    return r.reason.slice(r.reason.indexOf('will retry: ') + 'will retry: '.length).replace(/ \(HTTP \d+\)$/, '');
  };

  it('each retry and the redirect pause are quoted', async () => {
    const hang: Script = () => {};
    expectDocumented(quoted(retried(await reasonFor(hang, 300)), host(), '300'));

    const trickle: Script = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    };
    const slow = retried(await reasonFor(trickle, 300));
    expectDocumented(quoted(slow, host(), '300', '200', /(\d+) bytes so far/.exec(slow)![1]!));

    const huge: Script = (res) => res.writeHead(200, { 'content-length': String(5 * 1024 * 1024) }).end();
    expectDocumented(quoted(retried(await reasonFor(huge)), host(), 'Content-Length 5242880'));

    const cut: Script = (res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"purchase":');
      setTimeout(() => res.socket?.resetAndDestroy(), 20);
    };
    const broke = retried(await reasonFor(cut));
    expectDocumented(quoted(broke, host(), '200', '12', broke.slice(broke.lastIndexOf(': ') + 2)));

    const garbage: Script = (res) => res.socket?.end(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]));
    const notHttp = retried(await reasonFor(garbage));
    expectDocumented(quoted(notHttp, host(), notHttp.slice(notHttp.lastIndexOf('(') + 1, -1)));

    const html = '<html>Sign in to the Wi-Fi</html>';
    const unrecognised = retried(await reasonFor((res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html)));
    expectDocumented(quoted(unrecognised, 'a JSON object with "purchase"', 'a body that is not JSON', html));
    const empty = retried(await reasonFor((res) => res.writeHead(200).end()));
    expect(empty).toBe('unrecognised answer from Sailthru (expected a JSON object with "purchase", got an empty body)');
    const long = retried(await reasonFor((res) => res.writeHead(200).end(`[${'1,'.repeat(200)}1]`)));
    expect(long).toMatch(/^unrecognised answer from Sailthru \(expected a JSON object with "purchase", got a JSON array; first 200 bytes: \[1,1,[1,]*…\)$/);
    expect(doc).toContain('`first 200 bytes: …`');

    const proxyPage = retried(await reasonFor((res) => res.writeHead(502, { 'content-type': 'text/html' }).end(html)));
    expectDocumented(quoted(proxyPage, '502', html));

    const redirect = await reasonFor((res, url) => res.writeHead(301, { location: `https://elsewhere.example${url}` }).end());
    expect(redirect.state).toBe('paused');
    // The setting's name varies too (trackUrl for page views); "check apiUrl/trackUrl" does not.
    const setting = redirect.reason.replace(`(apiUrl ${base}`, `(SETTING ${base}`);
    expectDocumented(quoted(setting, 'POST', '/purchase', 'SETTING', base, 'https://elsewhere.example/purchase', '301'));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
