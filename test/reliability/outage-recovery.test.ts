import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postJson, waitForDrain } from '../e2e/harness.ts';
import { checkSequences, sequencedEvent, userIdOf } from './support/delivered-sequences.ts';
import { startProxiedStack, type ProxiedStack } from './support/proxied-stack.ts';

// After an outage, the lanes that backed off during it must not each wait out their own backoff:
// the first call Sailthru answers again makes them all due. The retry base here is 60 s, so every
// lane's first retry is 30 to 60 s after its failure; the backlog draining within 20 s of the
// recovery can only come from that wake.
const USERS = 20;
const PER_USER = 3;

let stack: ProxiedStack;

beforeAll(async () => {
  stack = await startProxiedStack({ env: { RETRY_BASE_MS: '60000', LOG_LEVEL: 'info' } });
});
afterAll(() => stack?.stop(), 30_000);

async function post(events: unknown[]): Promise<void> {
  const res = await postJson(`${stack.service.url}/v1/batch`, { batch: events }, basic(stack.writeKey));
  expect(res.status).toBe(200);
}

async function retrying(): Promise<number> {
  return (await stack.service.store.backlogByDestination()).reduce((n, b) => n + b.retrying, 0);
}

describe('recovery after a Sailthru outage', () => {
  it('the first answered call after an outage makes every backed-off lane retry at once', async () => {
    const since = stack.emulator.lastRequestSeq;
    await stack.proxy.down();
    const events: unknown[] = [];
    for (let seq = 0; seq < PER_USER; seq++) for (let u = 0; u < USERS; u++) events.push(sequencedEvent('outage', u, seq));
    await post(events);
    // Every lane has tried its head once and now waits 30-60 s for its retry.
    for (let waited = 0; (await retrying()) < USERS; waited += 50) {
      if (waited > 20_000) throw new Error(`only ${await retrying()} of ${USERS} lanes failed during the outage`);
      await new Promise((r) => setTimeout(r, 50));
    }

    await stack.proxy.up();
    // A new user's event is the first call to reach Sailthru again.
    await post([sequencedEvent('probe', 0, 0)]);
    await waitForDrain(stack.service, 20_000);

    const requests = stack.emulator.requests({ since });
    const expected = new Map(Array.from({ length: USERS }, (_, u) => [userIdOf('outage', u), PER_USER] as const));
    const report = checkSequences(
      requests.filter((r) => String((r.payload as { id?: unknown } | undefined)?.id ?? '').startsWith('outage-user-')),
      expected,
    );
    expect(report.problems).toEqual([]);
    expect(report.users).toBe(USERS);
    expect(report.applied).toBe(USERS * PER_USER);
    expect(stack.logs.join('')).toMatch(/Sailthru answers again after an outage: lanes waiting out a retry are due now/);
    const metrics = await stack.service.metrics.registry.metrics();
    expect(metrics).toMatch(/sailthru_destination_outage_wakes_total\{destination="[^"]+"\} 1\n/);
    expect(metrics).toMatch(new RegExp(`sailthru_destination_lanes_woken_total\\{destination="[^"]+"\\} ${USERS}\\n`));
  }, 60_000);
});
