import { afterAll, describe, expect, it } from 'vitest';
import { TestSchema } from '../delivery/postgres-helpers.ts';
import { basic, postJson, startStack, type Stack } from '../e2e/harness.ts';

// Issue 15 item 7: MAX_BACKLOG is a hard limit. 40 batches of 100 sent at once to a server with
// MAX_BACKLOG=500 and no delivery: at most 500 + one request's events end up unsettled, however
// the requests interleave, on SQLite and on PostgreSQL.
const MAX = 500;
const BATCH = 100;
const REQUESTS = 40;

function batch(round: number, request: number) {
  return {
    batch: Array.from({ length: BATCH }, (_, i) => ({ type: 'track', userId: `u-${request}-${i % 7}`, event: 'Backlog Test', messageId: `m-${round}-${request}-${i}` })),
  };
}

async function burst(stack: Stack, round: number): Promise<{ statuses: number[]; unsettled: number }> {
  const url = `${stack.service.url}/v1/batch`;
  const answers = await Promise.all(Array.from({ length: REQUESTS }, (_, r) => postJson(url, batch(round, r), basic(stack.writeKey))));
  const backlog = await stack.service.store.backlogByDestination();
  return { statuses: answers.map((a) => a.status), unsettled: backlog.reduce((n, b) => n + b.unsettled, 0) };
}

const schema = new TestSchema();
const stacks: Stack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
  await schema.dispose();
});

describe.each([
  ['SQLite', () => ({})],
  ['PostgreSQL', () => ({ DATABASE_URL: schema.url() })],
])('MAX_BACKLOG on %s', (_name, database) => {
  it('is never exceeded by more than one request, with 40 batches of 100 at once', async () => {
    const stack = await startStack({ env: { MAX_BACKLOG: String(MAX), LOG_LEVEL: 'warn', ...database() }, role: { ingest: true, delivery: false } });
    stacks.push(stack);
    const first = await burst(stack, 1);
    const accepted = first.statuses.filter((s) => s === 200).length;
    expect(first.statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(accepted * BATCH).toBe(first.unsettled);
    expect(first.unsettled).toBeGreaterThanOrEqual(MAX);
    expect(first.unsettled).toBeLessThanOrEqual(MAX + BATCH);
    // Full: a second burst is refused whole.
    const second = await burst(stack, 2);
    expect(second.statuses).toEqual(new Array<number>(REQUESTS).fill(429));
    expect(second.unsettled).toBe(first.unsettled);
  }, 120_000);
});
