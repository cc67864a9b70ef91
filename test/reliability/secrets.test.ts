import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { hashWriteKey } from '../../src/delivery/write-keys.ts';
import { basic, stackEnv } from '../e2e/harness.ts';
import { freePort, metric, startChild, type ChildServer } from '../e2e/child-server.ts';
import { ConsoleClient } from './support/console-client.ts';
import { reportFigures } from './support/figures.ts';
import { STARTUP_MS } from './support/scale.ts';

// Issue 9, secrets: a full scenario against a real `serve` process logging at trace level —
// ingest with two write keys and a signed webhook, deliveries failing in every way, a dead
// letter, a bad shared secret pausing the destination, test-connection with it, the admin API
// (every read, key creation, retries, tester, deletion) and every console page — then every log
// line, the delivery log (each event and its attempts, from the store), every console page, every
// admin API answer, /metrics and the error messages are searched for the shared secrets, the write
// keys, the webhook secret and the admin token, plain, base64 and URL-encoded: zero hits.
const API_KEY = 'rel-api-key-0042';
const CUSTOMER_ID = 'rel-customer';
const SECRETS: Record<string, string> = {
  sharedSecret: 'rel-shared-secret-Kq81vZ',
  wrongSharedSecret: 'rel-wrong-secret-Pp27xY',
  writeKeyA: 'rel-write-key-A-3fG9w',
  writeKeyB: 'rel-write-key-B-7hJ2q',
  adminToken: 'rel-admin-token-Xc55Lm',
  webhookSecret: 'rel-webhook-secret-Tt64',
};

let emulator: RunningEmulator;
let dir: string;
let server: ChildServer;
/** Every answer the scenario received, by where it came from. */
const seen: Array<{ source: string; text: string }> = [];
const record = (source: string, text: string) => seen.push({ source, text });

async function api(method: string, path: string, body?: unknown, token: string | null = SECRETS.adminToken!) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status: res.status, json, text };
}

async function ingest(path: string, body: unknown, headers: Record<string, string>) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
  const answer = await res.text();
  record(`ingest ${path} ${res.status}`, answer);
  return { status: res.status, text: answer };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const drained = async () => (await metric(server.url, 'sailthru_destination_backlog_events')) === 0;

function events(user: string, n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) =>
    i % 3 === 0
      ? { type: 'identify', userId: user, messageId: `${prefix}-${user}-${i}`, traits: { email: `${user}@example.com`, seq: i } }
      : { type: 'track', userId: user, messageId: `${prefix}-${user}-${i}`, event: 'Viewed Thing', properties: { seq: i } },
  );
}

beforeAll(async () => {
  emulator = await startEmulator({
    apiKey: API_KEY,
    secret: SECRETS.sharedSecret,
    customerId: CUSTOMER_ID,
    limits: { 'POST /event': 1_000_000, 'POST /user': 1_000_000 },
    // Deliveries fail in every transient way on the way (dropped connections, 500s, error 9).
    faults: { failRate: 0.2, error9Rate: 0.1, dropRate: 0.05, seed: 77 },
  });
  dir = mkdtempSync(join(tmpdir(), 'st-rel-secrets-'));
  const env = stackEnv(emulator.url, dir, {
    PORT: String(await freePort()),
    WRITE_KEYS: `${SECRETS.writeKeyA},${SECRETS.writeKeyB}`,
    ADMIN_TOKEN: SECRETS.adminToken!,
    WEBHOOK_SECRET: SECRETS.webhookSecret!,
    SAILTHRU_API_KEY: API_KEY,
    SAILTHRU_SECRET: SECRETS.sharedSecret!,
    SECRETS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    SAILTHRU_CUSTOMER_ID: CUSTOMER_ID,
    RETRY_BASE_MS: '20',
    LOG_LEVEL: 'trace',
  });
  server = await startChild(['serve'], env, STARTUP_MS);
}, STARTUP_MS + 30_000);

afterAll(async () => {
  if (server && server.process.exitCode === null && server.process.signalCode === null) {
    server.process.kill('SIGKILL');
    await server.exited;
  }
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('secrets never leave', () => {
  it('scenario: ingest, failing deliveries, a dead letter, a bad-secret pause', async () => {
    for (let u = 0; u < 10; u++) {
      expect((await ingest('/v1/batch', { batch: events(`sec-user-${u}`, 6, 'a') }, basic(SECRETS.writeKeyA!))).status).toBe(200);
    }
    expect((await ingest('/v1/track', { writeKey: SECRETS.writeKeyB, type: 'track', userId: 'sec-user-b', event: 'Body Key', messageId: 'b-1' }, {})).status).toBe(200);
    // "send" is a reserved event name at Sailthru: a permanent error, dead-lettered.
    expect((await ingest('/v1/track', { type: 'track', userId: 'sec-user-dl', event: 'send', messageId: 'dl-1' }, basic(SECRETS.writeKeyB!))).status).toBe(200);
    const webhookBody = JSON.stringify({ type: 'track', userId: 'sec-user-wh', event: 'Webhook Thing', messageId: 'wh-1' });
    const signature = createHmac('sha1', SECRETS.webhookSecret!).update(webhookBody).digest('hex');
    expect((await ingest('/v1/webhook', webhookBody, { 'x-signature': signature })).status).toBe(200);
    // Refusals, whose messages are scanned too.
    expect((await ingest('/v1/batch', { batch: [] }, basic(`${SECRETS.writeKeyA}x`))).status).toBe(401);
    expect((await ingest('/v1/webhook', webhookBody, { 'x-signature': 'f'.repeat(40) })).status).toBe(401);
    expect((await ingest('/v1/batch', '{"batch": [', basic(SECRETS.writeKeyA!))).status).toBe(400);
    await until(drained, 'the first deliveries');
    emulator.setFaults({});

    // A wrong shared secret: Sailthru answers error 5, the destination pauses with a reason.
    const wrong = await api('PATCH', '/api/destinations/default', { settings: { sharedSecret: SECRETS.wrongSharedSecret } });
    record('api PATCH wrong secret', wrong.text);
    expect(wrong.status).toBe(200);
    // A running destination picks up new settings within its registry's refresh time (1 s).
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await ingest('/v1/batch', { batch: events('sec-user-p', 3, 'p') }, basic(SECRETS.writeKeyA!))).status).toBe(200);
    let pauseReason = '';
    await until(async () => {
      const d = await api('GET', '/api/destinations/default');
      record('api GET destination (paused?)', d.text);
      const destination = d.json.destination as { paused?: boolean; pauseReason?: string } | undefined;
      pauseReason = destination?.pauseReason ?? '';
      return destination?.paused === true;
    }, 'the bad-secret pause');
    expect(pauseReason).toMatch(/5|auth|secret/i);
    const tested = await api('POST', '/api/destinations/default/test-connection', { settings: { sharedSecret: SECRETS.wrongSharedSecret } });
    record('api test-connection wrong secret', tested.text);
    expect(tested.json.verdict).toBe('bad-secret');
    const fixed = await api('PATCH', '/api/destinations/default', { settings: { sharedSecret: SECRETS.sharedSecret } });
    record('api PATCH right secret', fixed.text);
    expect((fixed.json.destination as { paused: boolean }).paused).toBe(false);
    await until(drained, 'deliveries after the fix');
    const good = await api('POST', '/api/destinations/default/test-connection', {});
    record('api test-connection', good.text);
    expect(good.json.verdict).toBe('ok');
  }, 120_000);

  it('the admin API refuses every route without the admin token, and with a wrong one', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/overview'],
      ['GET', '/api/series'],
      ['GET', '/api/sample-events'],
      ['GET', '/api/destinations'],
      ['POST', '/api/destinations'],
      ['GET', '/api/destinations/default'],
      ['PATCH', '/api/destinations/default'],
      ['DELETE', '/api/destinations/default'],
      ['POST', '/api/destinations/default/test-connection'],
      ['POST', '/api/destinations/default/pause'],
      ['POST', '/api/destinations/default/resume'],
      ['GET', '/api/destinations/default/write-keys'],
      ['POST', '/api/destinations/default/write-keys'],
      ['DELETE', '/api/write-keys/x'],
      ['GET', '/api/events'],
      ['GET', '/api/events/1'],
      ['POST', '/api/events/1/retry'],
      ['POST', '/api/events/1/drop'],
      ['POST', '/api/deadletters/retry'],
      ['POST', '/api/deadletters/drop'],
      ['POST', '/api/users/u/delete'],
      ['POST', '/api/test-events'],
    ];
    const refused: string[] = [];
    for (const [method, path] of routes) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const none = await api(method, path, body, null);
      record(`api ${method} ${path} without token`, none.text);
      if (none.status === 401 && typeof none.json.error === 'string') refused.push(`${method} ${path}`);
    }
    expect(refused.length).toBe(routes.length);
    // Wrong tokens (first or last character off, another scheme, in the query): 401 each.
    const adminToken = SECRETS.adminToken!;
    for (const header of [
      `Bearer X${adminToken.slice(1)}`,
      `Bearer ${adminToken.slice(0, -1)}X`,
      `Bearer ${adminToken}x`,
      `Basic ${Buffer.from(`${adminToken}:`).toString('base64')}`,
      adminToken,
    ]) {
      const res = await fetch(`${server.url}/api/destinations`, { headers: { authorization: header } });
      const text = await res.text();
      record('api wrong token', text);
      expect(res.status).toBe(401);
    }
    const inQuery = await fetch(`${server.url}/api/destinations?token=${adminToken}&access_token=${adminToken}`);
    record('api token in query', await inQuery.text());
    expect(inQuery.status).toBe(401);
    // The token works.
    expect((await api('GET', '/api/destinations')).status).toBe(200);
  });

  it('write keys: refused whether they differ in the first or the last character; stored only as hashes', async () => {
    const key = SECRETS.writeKeyA!;
    const variants = {
      firstCharDiffers: `X${key.slice(1)}`,
      lastCharDiffers: `${key.slice(0, -1)}X`,
      prefix: key.slice(0, -1),
      extended: `${key}0`,
      upperCase: key.toUpperCase(),
      itsHash: hashWriteKey(key),
    };
    const timings: Record<string, number> = {};
    for (const [name, variant] of Object.entries(variants)) {
      const started = performance.now();
      for (let i = 0; i < 20; i++) {
        const res = await ingest('/v1/track', { type: 'track', userId: 'u', event: 'E' }, basic(variant));
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
      }
      timings[name] = Math.round(((performance.now() - started) / 20) * 100) / 100;
    }
    // The database holds the SHA-256 of each key and never the key: a lookup compares hashes in an
    // index, so no secret byte is compared byte by byte in our code (nothing to time).
    const db = new BetterSqlite3(join(dir, 'e2e.db'), { readonly: true, fileMustExist: true });
    try {
      const dump = JSON.stringify(db.prepare('SELECT * FROM write_keys').all());
      expect(dump).toContain(hashWriteKey(SECRETS.writeKeyA!));
      expect(dump).toContain(hashWriteKey(SECRETS.writeKeyB!));
      expect(dump).not.toContain(SECRETS.writeKeyA);
      expect(dump).not.toContain(SECRETS.writeKeyB);
    } finally {
      db.close();
    }
    reportFigures('write-key-refusals', { ...Object.fromEntries(Object.entries(timings).map(([k, v]) => [`${k}Ms`, v])) });
  });

  it('the console refuses a form without its session CSRF token, and one from another session', async () => {
    const console1 = new ConsoleClient(server.url);
    const console2 = new ConsoleClient(server.url);
    expect((await console1.signIn(SECRETS.adminToken!)).status).toBe(303);
    expect((await console2.signIn(SECRETS.adminToken!)).status).toBe(303);
    const page1 = await console1.get('/destinations/default');
    const page2 = await console2.get('/destinations/default');
    const csrf1 = ConsoleClient.csrfOf(page1);
    const csrf2 = ConsoleClient.csrfOf(page2);
    expect(csrf1).not.toBe(csrf2);

    const without = await console1.post('/destinations/default/pause', { reason: 'forged' });
    const foreign = await console1.post('/destinations/default/pause', { reason: 'forged', _csrf: csrf2 });
    for (const r of [without, foreign]) {
      record('console forged form', r.text);
      expect(r.status).toBe(403);
    }
    const d = await api('GET', '/api/destinations/default');
    expect((d.json.destination as { paused: boolean }).paused).toBe(false);
    // A sign-in form posted without its own pre-token cookie (cross-site) is refused too.
    const crossSite = await fetch(`${server.url}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _pre: 'guessed', token: SECRETS.adminToken!, next: '/' }).toString(),
      redirect: 'manual',
    });
    record('console cross-site sign-in', await crossSite.text());
    expect(crossSite.status).toBe(403);
    // With the token the same action works (then undo it).
    expect((await console1.post('/destinations/default/pause', { reason: 'real', _csrf: csrf1 })).status).toBe(303);
    expect((await console1.post('/destinations/default/resume', { _csrf: csrf1 })).status).toBe(303);
    // Signed out, the session's cookie and token are dead.
    expect((await console1.post('/sign-out', { _csrf: csrf1 })).status).toBe(303);
    expect((await console1.get('/')).status).toBe(303);
  });

  it('every console page, every admin API answer, /metrics, every log line and the delivery log: zero secrets', async () => {
    // Admin API: every read, plus the changing routes that render events and keys.
    const list = await api('GET', '/api/events?limit=500');
    const ids = ((list.json.events as Array<{ id: number }>) ?? []).map((e) => e.id);
    expect(ids.length).toBeGreaterThan(50);
    const reads = ['/api/overview', '/api/series', '/api/sample-events', '/api/destinations', '/api/destinations/default', '/api/destinations/default/write-keys', '/api/events?status=failed', '/api/events?status=delivered&limit=500'];
    for (const path of reads) {
      const r = await api('GET', path);
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
      record(`api GET ${path}`, r.text);
    }
    for (const id of ids) record(`api GET /api/events/${id}`, (await api('GET', `/api/events/${id}`)).text);
    record('api dead-letter retry', (await api('POST', '/api/deadletters/retry', { filter: {} })).text);
    record('api test event', (await api('POST', '/api/test-events', { event: { type: 'track', userId: 'sec-tester', event: 'Tested' } })).text);
    record('api delete user', (await api('POST', '/api/users/sec-user-0/delete', {})).text);
    record('api bad input', (await api('GET', '/api/events?status=bogus')).text);
    record('api bad settings', (await api('PATCH', '/api/destinations/default', { settings: { apiUrl: 'not a url' } })).text);
    const createdKey = await api('POST', '/api/destinations/default/write-keys', { label: 'created by the secrets test' });
    expect(createdKey.status).toBe(201);
    const newKey = (createdKey.json.key ?? (createdKey.json.writeKey as { key?: string } | undefined)?.key) as string | undefined;
    expect(typeof newKey).toBe('string');
    SECRETS.createdWriteKey = newKey!;
    // The key is shown once, in the answer that created it; it works and appears nowhere else.
    expect((await ingest('/v1/track', { type: 'track', userId: 'sec-new-key', event: 'New Key' }, basic(newKey!))).status).toBe(200);
    await until(drained, 'the last deliveries');

    // Console: every page.
    const consoleClient = new ConsoleClient(server.url);
    expect((await consoleClient.signIn(SECRETS.adminToken!)).status).toBe(303);
    const pages = ['/', '/destinations', '/destinations/default', '/events', '/events?status=failed', '/events?status=delivered', '/dead-letters', '/tester', '/tester?sample=order-completed'];
    for (const id of ids.slice(0, 80)) pages.push(`/events/${id}`);
    for (const path of pages) {
      const p = await consoleClient.get(path);
      expect({ path, status: p.status }).toEqual({ path, status: 200 });
      record(`console ${path}`, p.text);
    }
    const csrf = ConsoleClient.csrfOf(await consoleClient.get('/tester'));
    record('console tester result', (await consoleClient.post('/tester', { _csrf: csrf, destination: 'default', event: JSON.stringify({ type: 'identify', userId: 'sec-tester-2', traits: { email: 'x@example.com' } }) })).text);
    record('console tester bad json', (await consoleClient.post('/tester', { _csrf: csrf, destination: 'default', event: '{nope' })).text);
    record('console missing page', (await consoleClient.get('/events/999999999')).text);
    record('metrics', await (await fetch(`${server.url}/metrics`)).text());

    server.process.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const logLines = server.output().split('\n').filter((l) => l.trim() !== '');

    // The delivery log: each event, its outcome and each attempt, as the store keeps them.
    const store = await openSqliteStore({ path: join(dir, 'e2e.db') });
    let deliveryLogEvents = 0;
    let attempts = 0;
    try {
      let beforeId: number | undefined;
      for (;;) {
        const page = await store.search({ limit: 500, ...(beforeId !== undefined ? { beforeId } : {}) });
        for (const e of page.events) {
          const detail = await store.getEvent(e.id);
          deliveryLogEvents++;
          attempts += detail?.attempts.length ?? 0;
          record(`delivery log event ${e.id}`, JSON.stringify(detail));
        }
        if (page.nextBeforeId === null) break;
        beforeId = page.nextBeforeId;
      }
    } finally {
      await store.close();
    }
    for (const line of logLines) record('log', line);

    const forms = Object.entries(SECRETS).flatMap(([name, value]) => [
      { name, form: 'plain', needle: value },
      { name, form: 'base64', needle: Buffer.from(value).toString('base64') },
      { name, form: 'base64 basic', needle: Buffer.from(`${value}:`).toString('base64') },
      { name, form: 'url-encoded', needle: encodeURIComponent(value) },
    ]);
    const hits: string[] = [];
    for (const { source, text } of seen) {
      for (const { name, form, needle } of forms) {
        if (text.includes(needle)) hits.push(`${name} (${form}) in ${source}`);
      }
      // A Sailthru signature (md5 hex) next to a "sig" name.
      if (/\bsig\b["']?\s*[:=]\s*["']?[0-9a-f]{32}/i.test(text)) hits.push(`sig in ${source}`);
    }
    // The key-creation answer is the one place a new key may appear.
    const creation = createdKey.text.includes(newKey!);
    const redactions = logLines.filter((l) => l.includes('was about to be sent in a response')).length;
    const count = (prefix: string) => seen.filter((s) => s.source.startsWith(prefix)).length;
    reportFigures('secrets', {
      logLines: logLines.length,
      deliveryLogEvents,
      attempts,
      consolePages: count('console'),
      apiAnswers: count('api'),
      ingestAnswers: count('ingest'),
      metricsBytes: seen.find((s) => s.source === 'metrics')!.text.length,
      secretForms: forms.length,
      hits: hits.length,
      lastLineRedactions: redactions,
    });
    expect(hits).toEqual([]);
    expect(creation).toBe(true);
    // No code path even tried to send one (the console's last-line redaction never had to act).
    expect(redactions).toBe(0);
    expect(attempts).toBeGreaterThan(deliveryLogEvents);
  }, 120_000);
});
