import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postJson, startStack, waitForDrain, type Stack } from './harness.ts';

// Bad input against the real server and store: each refusal names the problem, never echoes a
// secret, and nothing stored before (or alongside) is lost.
let stack: Stack;
let batchUrl: string;

beforeAll(async () => {
  stack = await startStack({ env: { WEBHOOK_SECRET: 'bad-input-webhook-secret' } });
  batchUrl = `${stack.service.url}/v1/batch`;
  const stored = await postJson(
    batchUrl,
    { batch: [{ type: 'track', userId: 'keeper', messageId: 'keep-1', event: 'Kept', properties: { n: 1 } }] },
    basic(stack.writeKey),
  );
  expect(stored.status).toBe(200);
});
afterAll(() => stack?.stop());

const error = (r: { json: Record<string, unknown> | null }) => String(r.json?.error ?? '');

describe('bad input', () => {
  it('malformed JSON: 400 naming the position', async () => {
    const r = await postJson(batchUrl, '{"batch": [ {"type": "track", } ]}', basic(stack.writeKey));
    expect(r.status).toBe(400);
    expect(error(r)).toMatch(/Invalid JSON.*position \d+/);
  });

  it('a body over 500 KB: 413 saying so', async () => {
    const big = { batch: [{ type: 'track', userId: 'u', event: 'Big', properties: { blob: 'x'.repeat(600_000) } }] };
    const r = await postJson(batchUrl, big, basic(stack.writeKey));
    expect(r.status).toBe(413);
    expect(r.json?.code).toBe('INGEST_BODY_TOO_LARGE');
    expect(error(r)).toMatch(/500 ?KB|512000|too large/i);
  });

  it('an event over 32 KB in a batch is rejected alone; the rest is stored', async () => {
    const r = await postJson(
      batchUrl,
      {
        batch: [
          { type: 'track', userId: 'keeper', messageId: 'keep-2', event: 'Kept', properties: { n: 2 } },
          { type: 'track', userId: 'keeper', messageId: 'too-big', event: 'Big', properties: { blob: 'x'.repeat(40_000) } },
        ],
      },
      basic(stack.writeKey),
    );
    expect(r.status).toBe(200);
    expect(r.json?.rejected).toEqual([expect.objectContaining({ index: 1, messageId: 'too-big', reason: expect.stringMatching(/32 ?KB|32768/i) })]);
  });

  it('a wrong or missing write key: 401 without echoing the key', async () => {
    const wrong = await postJson(batchUrl, { batch: [] }, basic('not-a-real-key-123'));
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('not-a-real-key-123');
    const missing = await postJson(batchUrl, { batch: [{ type: 'track', userId: 'u', event: 'E' }] });
    expect(missing.status).toBe(401);
    expect(error(missing)).toMatch(/write key/i);
  });

  it('a wrong X-Signature on the webhook: 401', async () => {
    const r = await postJson(`${stack.service.url}/v1/webhook`, { type: 'track', userId: 'u', event: 'E' }, { 'x-signature': '0'.repeat(40) });
    expect(r.status).toBe(401);
    expect(r.text).not.toContain('bad-input-webhook-secret');
  });

  it('wrong types in fields: each event rejected with a reason naming the field, visible in the delivery log', async () => {
    const r = await postJson(
      batchUrl,
      {
        batch: [
          { type: 'track', userId: 'keeper', messageId: 'bad-props', event: 'E', properties: 'not an object' },
          { type: 'track', userId: 'keeper', messageId: 'bad-event', event: 42 },
          { type: 'identify', messageId: 'no-ids', traits: { a: 1 } },
          { type: 'teleport', userId: 'keeper', messageId: 'bad-type' },
        ],
      },
      basic(stack.writeKey),
    );
    expect(r.status).toBe(200);
    const rejected = r.json?.rejected as Array<{ messageId: string; reason: string }>;
    const reason = (id: string) => rejected.find((x) => x.messageId === id)?.reason ?? '';
    expect(reason('bad-props')).toMatch(/properties/);
    expect(reason('bad-event')).toMatch(/event/);
    expect(reason('no-ids')).toMatch(/userId|anonymousId/);
    expect(reason('bad-type')).toMatch(/type/);
    const log = await stack.service.store.search({ status: 'rejected', limit: 50 });
    expect(log.events.map((e) => e.messageId).sort()).toEqual(expect.arrayContaining(['bad-event', 'bad-props', 'bad-type', 'no-ids', 'too-big']));
  });

  it('an invalid timestamp costs no event: it is delivered at the receive time, with a warning in the delivery log', async () => {
    const before = Date.now();
    const r = await postJson(
      batchUrl,
      {
        batch: [
          { type: 'track', userId: 'keeper', messageId: 'ts-year', event: 'Timed', properties: { n: 3 }, timestamp: '2017' },
          { type: 'track', userId: 'keeper', messageId: 'ts-feb31', event: 'Timed', properties: { n: 4 }, timestamp: '2024-02-31T10:00:00Z' },
        ],
      },
      basic(stack.writeKey),
    );
    expect(r.status).toBe(200);
    expect(r.json?.rejected).toBeUndefined();
    await waitForDrain(stack.service);
    for (const [messageId, bad] of [['ts-year', '"2017"'], ['ts-feb31', '"2024-02-31T10:00:00Z"']] as const) {
      const found = await stack.service.store.search({ messageId });
      const stored = found.events[0]!;
      expect(stored.status).toBe('delivered');
      const payload = stored.payload as { timestamp: string; receivedAt: string; ingestWarnings: string[] };
      expect(payload.timestamp).toBe(payload.receivedAt);
      expect(Date.parse(payload.timestamp)).toBeGreaterThanOrEqual(before - 1000);
      // As an operator sees it: the event's page in the admin API lists the warning on its attempt.
      const detail = (await (
        await fetch(`${stack.service.url}/api/events/${stored.id}`, { headers: { authorization: `Bearer ${stack.adminToken}` } })
      ).json()) as { event: { attemptLog: Array<{ warnings: string[] }> } };
      expect(detail.event.attemptLog[0]?.warnings).toContainEqual(expect.stringMatching(new RegExp(`^at ingest: timestamp ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid ISO-8601 date`)));
    }
  });

  it('a userId of only whitespace counts as missing: the event goes by its anonymousId', async () => {
    const r = await postJson(batchUrl, { batch: [{ type: 'track', userId: '   ', anonymousId: 'anon-blank', messageId: 'blank-id', event: 'Blank' }] }, basic(stack.writeKey));
    expect(r.status).toBe(200);
    await waitForDrain(stack.service);
    expect(stack.emulator.state().events.filter((e) => e.event === 'Blank').map((e) => e.id)).toEqual(['anon-blank']);
    const found = await stack.service.store.search({ messageId: 'blank-id' });
    expect(found.events[0]?.laneKey).toBe('anon-blank');
  });

  it('refused requests are counted by code, logged at most once per code every 10 s without secrets, and shown on the overview', async () => {
    const leakyKey = 'wk-in-the-query-string-77';
    for (let i = 0; i < 3; i++) await postJson(`${stack.service.url}/beacon/v1/batch?writeKey=${leakyKey}`, { batch: [] }, { 'content-type': 'text/plain' });
    const metrics = await (await fetch(`${stack.service.url}/metrics`)).text();
    const count = (reason: string) => Number(new RegExp(`sailthru_destination_ingest_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(count('INGEST_UNKNOWN_WRITE_KEY')).toBeGreaterThanOrEqual(4);
    expect(count('INGEST_BODY_TOO_LARGE')).toBe(1);
    expect(count('INGEST_INVALID_JSON')).toBe(1);
    const refusalLogs = stack.logs.filter((line) => line.includes('ingest refused a request') && line.includes('INGEST_UNKNOWN_WRITE_KEY'));
    expect(refusalLogs).toHaveLength(1);
    expect(stack.logs.join('')).not.toContain(leakyKey);
    expect(stack.logs.join('')).not.toContain('not-a-real-key-123');

    const overview = (await (await fetch(`${stack.service.url}/api/overview`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as {
      refused: Array<{ code: string; status: number; count: number; lastPath: string }>;
    };
    expect(overview.refused).toContainEqual(expect.objectContaining({ code: 'INGEST_UNKNOWN_WRITE_KEY', status: 401, lastPath: '/beacon/v1/batch' }));
    expect(JSON.stringify(overview)).not.toContain(leakyKey);
  });

  it('CORS is on the ingest routes only: not on the console, /api, /metrics or /healthz', async () => {
    const origin = 'https://shop.example.com';
    for (const path of ['/api/overview', '/metrics', '/healthz', '/', '/sign-in']) {
      const preflight = await fetch(`${stack.service.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
      expect(preflight.headers.get('access-control-allow-origin'), path).toBeNull();
      const get = await fetch(`${stack.service.url}${path}`, { headers: { origin } });
      expect(get.headers.get('access-control-allow-origin'), path).toBeNull();
    }
    const ingest = await fetch(`${stack.service.url}/v1/track`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect(ingest.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('nothing accepted before or alongside the bad input was lost', async () => {
    await waitForDrain(stack.service);
    const kept = stack.emulator.state().events.filter((e) => e.id === 'keeper');
    expect(kept.map((e) => e.vars)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  });
});
