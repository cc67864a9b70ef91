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

  it('a body over 500 KB: 400 saying so', async () => {
    const big = { batch: [{ type: 'track', userId: 'u', event: 'Big', properties: { blob: 'x'.repeat(600_000) } }] };
    const r = await postJson(batchUrl, big, basic(stack.writeKey));
    expect(r.status).toBe(400);
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

  it('nothing accepted before or alongside the bad input was lost', async () => {
    await waitForDrain(stack.service);
    const kept = stack.emulator.state().events.filter((e) => e.id === 'keeper');
    expect(kept.map((e) => e.vars)).toEqual([{ n: 1 }, { n: 2 }]);
  });
});
