import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postJson, startStack, waitForDrain, type Stack } from './harness.ts';

/** SAILTHRU_TIMEOUT_MS: a Sailthru call that hangs is given up after that long, then retried. */
describe('SAILTHRU_TIMEOUT_MS', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SAILTHRU_TIMEOUT_MS: '300', RETRY_BASE_MS: '50' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('gives up on a hung call after the configured time and delivers on the retry', async () => {
    stack.emulator.setFaults({ hangRate: 1 });
    const event = { type: 'track', userId: 'slow-user', event: 'Waited', messageId: 'timeout-1', timestamp: '2024-05-01T10:00:00.000Z' };
    expect((await postJson(`${stack.service.url}/v1/track`, event, basic(stack.writeKey))).status).toBe(200);

    let lastError: string | null = null;
    const deadline = Date.now() + 20_000;
    while (lastError === null && Date.now() < deadline) {
      const page = await stack.service.store.search({ destinationId: 'default', limit: 5 });
      lastError = page.events.find((e) => e.messageId === 'timeout-1')?.lastError ?? null;
      if (lastError === null) await new Promise((r) => setTimeout(r, 50));
    }
    // The client's default would have waited 10 s; this one said so after 300 ms.
    expect(lastError).toMatch(/No answer from .* within 300 ms/);

    stack.emulator.setFaults({});
    await waitForDrain(stack.service, 30_000);
    expect(stack.emulator.state().events.map((e) => e.event)).toEqual(['Waited']);
  });
});
