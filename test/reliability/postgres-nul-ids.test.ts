import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestSchema } from '../delivery/postgres-helpers.ts';
import { basic, postJson, startStack, waitForDrain, type Stack } from '../e2e/harness.ts';

/**
 * PostgreSQL text cannot hold U+0000, and JSON can carry one into a userId or anonymousId. The
 * queue's columns replace it (pgText); the identity ties (anonymousId → userId) and the memory of
 * sent profiles (by extid, the userId) are written by their own statements, which must too, or
 * the identify that writes them fails at every attempt until its dead letter.
 */
let schema: TestSchema;
let stack: Stack;

beforeAll(async () => {
  schema = new TestSchema();
  stack = await startStack({ env: { DATABASE_URL: schema.url(), RETRY_BASE_MS: '20', RETRY_WINDOW_HOURS: '0.0003', LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await stack?.stop();
  await schema?.dispose();
});

describe('PostgreSQL: ids holding U+0000', () => {
  it('an identify tying an anonymousId to a userId, both with U+0000, is delivered, and so is what follows', async () => {
    const batch = [
      { type: 'identify', userId: 'ada\u0000x', anonymousId: 'anon\u0000y', messageId: 'nul-1', traits: { email: 'ada@example.com' } },
      { type: 'track', userId: 'ada\u0000x', messageId: 'nul-2', event: 'Step' },
      { type: 'identify', userId: 'ada\u0000x', messageId: 'nul-3', traits: { email: 'ada@example.com', plan: 'pro' } },
    ];
    expect((await postJson(`${stack.service.url}/v1/batch`, { batch }, basic(stack.writeKey))).status).toBe(200);
    await waitForDrain(stack.service, 20_000);
    const { rows } = await schema.admin.query<{ message_id: string; status: string; last_error: string | null }>(
      `SELECT message_id, status, last_error FROM ${schema.name}.events ORDER BY id`,
    );
    expect(rows.map((r) => [r.message_id, r.status, r.last_error])).toEqual([
      ['nul-1', 'delivered', null],
      ['nul-2', 'delivered', null],
      ['nul-3', 'delivered', null],
    ]);
  }, 40_000);
});
