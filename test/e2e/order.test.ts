import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postJson, startStack, waitForDrain, type Stack } from './harness.ts';

// Issue 4's order test: 200 users × 20 interleaved events while the emulator fails 20% of calls
// transiently (10% HTTP 500, 10% error 9 on HTTP 200; neither is applied). Every user's calls
// must reach Sailthru in event order, and every event exactly once.
const USERS = 200;
const PER_USER = 20;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    emulator: {
      limits: { 'POST /event': 1_000_000, 'POST /user': 1_000_000 },
      faults: { failRate: 0.1, error9Rate: 0.1, seed: 20261127 },
    },
    env: { RETRY_BASE_MS: '20', SAILTHRU_RATE_LIMITS: 'POST=5000,POST /user=5000', DELIVERY_CONCURRENCY: '64' },
  });
});
afterAll(() => stack?.stop());

function eventFor(user: number, seq: number) {
  const userId = `order-user-${user}`;
  const messageId = `order-${user}-${seq}`;
  // Identify and track interleave inside a lane so order holds across endpoints.
  return seq % 5 === 0
    ? { type: 'identify', userId, messageId, traits: { seq } }
    : { type: 'track', userId, messageId, event: 'Step', properties: { seq } };
}

describe('per-user order under transient faults', () => {
  it('delivers every event once, each user in order', async () => {
    const all: unknown[] = [];
    for (let seq = 0; seq < PER_USER; seq++) for (let u = 0; u < USERS; u++) all.push(eventFor(u, seq));
    for (let i = 0; i < all.length; i += 100) {
      const res = await postJson(`${stack.service.url}/v1/batch`, { batch: all.slice(i, i + 100) }, basic(stack.writeKey));
      expect(res.status).toBe(200);
    }
    await waitForDrain(stack.service, 120_000);

    const requests = stack.emulator.requests();
    const faulted = requests.filter((r) => r.status !== 200 || r.errorCode !== null).length;
    // The faults really happened (about 20% of calls), so retries were exercised.
    expect(faulted).toBeGreaterThan(requests.length * 0.1);

    const applied = new Map<string, number[]>();
    for (const r of requests) {
      if (r.status !== 200 || r.errorCode !== null) continue;
      const p = r.payload as { id: string; vars: { seq: number } };
      const seqs = applied.get(p.id) ?? [];
      seqs.push(p.vars.seq);
      applied.set(p.id, seqs);
    }
    expect(applied.size).toBe(USERS);
    const expected = Array.from({ length: PER_USER }, (_, i) => i);
    for (const [user, seqs] of applied) expect({ user, seqs }).toEqual({ user, seqs: expected });

    const delivered = await stack.service.metrics.registry.getSingleMetric('sailthru_destination_events_delivered_total')?.get();
    expect(delivered?.values.reduce((n, v) => n + v.value, 0)).toBe(USERS * PER_USER);
    const backlog = await stack.service.store.backlogByDestination();
    expect(backlog.reduce((n, b) => n + b.unsettled + b.failed, 0)).toBe(0);
  }, 180_000);
});
