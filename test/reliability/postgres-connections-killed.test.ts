import { afterAll, describe, expect, it } from 'vitest';
import { TestSchema, TEST_DATABASE_URL } from '../delivery/postgres-helpers.ts';
import { basic, postJson, startStack, waitForDrain, type Stack } from '../e2e/harness.ts';
import { SwitchableProxy } from './support/switchable-proxy.ts';

// Attack table (docs/reliability.md): PostgreSQL's connections are killed under a running server
// (pg_terminate_backend, as an administrator or a failover does) while events arrive and are
// delivered. The server stays up, reconnects, answers 200 only for what it stored, and every
// event it acknowledged is delivered. The proxy only tells this server's connections apart from
// those of other tests sharing the database.
const ROUNDS = 6;
const BATCH = 10;

const schema = new TestSchema();
const target = new URL(TEST_DATABASE_URL);
const proxy = new SwitchableProxy(Number(target.port || 5432), target.hostname);
let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
  await proxy.down();
  await schema.dispose();
});

async function killConnections(): Promise<number> {
  const ports = proxy.upstreamPorts();
  const { rows } = await schema.admin.query<{ killed: boolean }>(
    'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()',
    [ports],
  );
  return rows.filter((r) => r.killed).length;
}

describe('PostgreSQL connections killed', () => {
  it('the server reconnects, and every acknowledged event is delivered', async () => {
    await proxy.up();
    const url = new URL(schema.url());
    url.port = String(proxy.port);
    stack = await startStack({ env: { LOG_LEVEL: 'error', DATABASE_URL: url.toString(), RETRY_BASE_MS: '50' } });
    const acknowledged = new Set<string>();
    const statuses: number[] = [];
    let killed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const batch = Array.from({ length: BATCH }, (_, i) => ({ type: 'track', userId: `kill-${round}-${i % 3}`, event: 'Connection Killed', messageId: `kill-${round}-${i}` }));
      const sending = postJson(`${stack.service.url}/v1/batch`, { batch }, basic(stack.writeKey));
      killed += await killConnections();
      const answer = await sending;
      statuses.push(answer.status);
      if (answer.status === 200) for (const e of batch) acknowledged.add(e.messageId);
    }
    expect(killed).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    // After the kills, the server takes events again.
    const after = await postJson(`${stack.service.url}/v1/batch`, { batch: [{ type: 'track', userId: 'kill-after', event: 'Connection Killed', messageId: 'kill-after' }] }, basic(stack.writeKey));
    expect(after.status).toBe(200);
    acknowledged.add('kill-after');
    await waitForDrain(stack.service, 60_000);
    const stored = await stack.service.store.search({ limit: 500 });
    const delivered = new Set(stored.events.filter((e) => e.status === 'delivered').map((e) => e.messageId));
    expect([...acknowledged].filter((id) => !delivered.has(id))).toEqual([]);
    console.log(`[reliability] postgres-connections-killed killed=${killed} answers=${statuses.join(',')} acknowledged=${acknowledged.size}`);
  }, 120_000);
});
