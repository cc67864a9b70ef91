import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SailthruClient } from '../../src/sailthru/client.ts';
import { createDestination } from '../../src/destination/index.ts';
import { resultOfError } from '../../src/destination/sailthru-port.ts';
import { CREDENTIALS, event, identifyUser, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.reset();
  h.emulator.setRateLimits({ limits: {} });
  h.mark();
});

const track = (name = 'Signed Up') => event({ type: 'track', userId: 'u-1', event: name, properties: { plan: 'pro' } });

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('outcomes (SPEC.md §9)', () => {
  it('delivered outcomes carry every call in order, without the secret or sig', async () => {
    await identifyUser(h.destination, 'u-1', { email: 'u1@example.com' });
    const outcome = await h.destination.deliver(
      event({ type: 'track', userId: 'u-1', event: 'Product Added', properties: { id: 'p', price: 1, url: 'https://x.example/p' } }),
    );
    expect(outcome.state).toBe('delivered');
    expect(outcome.calls.map((c) => [c.method, c.endpoint, c.status])).toEqual([
      ['GET', '/user', 200],
      ['POST', '/purchase', 200],
    ]);
    expect(outcome.calls[1]?.payload).toMatchObject({ email: 'u1@example.com', incomplete: 1 });
    const text = JSON.stringify(outcome);
    expect(text).not.toContain(CREDENTIALS.secret);
    expect(text).not.toContain('"sig"');
  });

  it('HTTP 5xx → retry, with Sailthru\'s code and message in the reason', async () => {
    h.emulator.setFaults({ failRate: 1 });
    const outcome = await h.destination.deliver(track());
    expect(outcome.state).toBe('retry');
    if (outcome.state === 'retry') expect(outcome.reason).toMatch(/^Sailthru POST \/event failed, will retry: error 9: .*\(HTTP 500\)$/);
    expect(outcome.calls).toHaveLength(1);
  });

  it('an error in an HTTP 200 body (error 9) → retry', async () => {
    h.emulator.setFaults({ error9Rate: 1 });
    const outcome = await h.destination.deliver(track());
    expect(outcome.state).toBe('retry');
    expect(outcome.calls[0]).toMatchObject({ status: 200, errorCode: 9 });
  });

  it('HTTP 429 / error 43 → retry no earlier than X-Rate-Limit-Reset', async () => {
    h.emulator.setRateLimits({ limits: { 'POST /event': 1 } });
    expect((await h.destination.deliver(track())).state).toBe('delivered');
    const limited = await h.destination.deliver(track());
    expect(limited.state).toBe('retry');
    if (limited.state === 'retry') {
      expect(limited.retryAfterMs).toBeGreaterThanOrEqual(0);
      expect(limited.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    expect(limited.calls[0]).toMatchObject({ status: 429, errorCode: 43 });
    expect(h.destination.client.rateLimits().get('POST /event')).toMatchObject({ limit: 1, remaining: 0 });
  });

  it('a network error → retry', async () => {
    const port = await closedPort();
    const d = createDestination({ ...h.settings, apiUrl: `http://127.0.0.1:${port}` });
    try {
      const outcome = await d.deliver(track());
      expect(outcome.state).toBe('retry');
      if (outcome.state === 'retry') expect(outcome.reason).toContain('Could not reach');
      expect(outcome.calls[0]?.status).toBe(0);
    } finally {
      await d.close();
    }
  });

  it('bad credentials pause the destination instead of dead-lettering (errors 3 and 5)', async () => {
    const wrongSecret = h.withSettings({ sharedSecret: 'not-the-secret' });
    const paused = await wrongSecret.deliver(track());
    expect(paused.state).toBe('paused');
    if (paused.state === 'paused') {
      expect(paused.reason).toContain('error 5');
      expect(paused.reason).toContain('check the API key, shared secret and IP allow-list');
      expect(paused.reason).not.toContain('not-the-secret');
    }
    const wrongKey = h.withSettings({ apiKey: 'unknown-key' });
    const paused2 = await wrongKey.deliver(track());
    expect(paused2.state).toBe('paused');
    if (paused2.state === 'paused') expect(paused2.reason).toContain('error 3');
    expect(h.emulator.state().events).toEqual([]);
  });

  it('a permanent Sailthru error → failed with the code, the message and what to do', async () => {
    // The mapping leaves implausible addresses out (SPEC.md §0), so the refusal is provoked with the client itself.
    const client = new SailthruClient({ apiKey: CREDENTIALS.apiKey, sharedSecret: CREDENTIALS.secret, apiUrl: h.emulator.url, trackUrl: h.emulator.url });
    try {
      const refused = await client.postUser({ id: 'u-bad', key: 'extid', keys: { email: 'not-an-email' } });
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(resultOfError(refused)).toEqual({
        state: 'failed',
        reason: 'Sailthru refused POST /user: error 11: Invalid email: not-an-email (HTTP 200); the email address is not valid',
      });
    } finally {
      await client.close();
    }
  });

  it('an exception in the rate-limit gate → retry (infrastructure), not a dead letter', async () => {
    const gate = {
      acquire: () => Promise.reject(Object.assign(new Error('rate limit store unavailable'), { msBeforeNext: 250 })),
    };
    const d = h.withSettings({}, { gate });
    const outcome = await d.deliver(track());
    expect(outcome).toMatchObject({ state: 'retry', retryAfterMs: 250 });
    if (outcome.state === 'retry') expect(outcome.reason).toContain('rate limit store unavailable');
    expect(h.received()).toEqual([]);
  });

  it('a bug in the mapping → failed with a clear reason, never a rejected promise', async () => {
    const properties = {};
    Object.defineProperty(properties, 'explodes', {
      enumerable: true,
      get() {
        throw new Error('getter blew up');
      },
    });
    const outcome = await h.destination.deliver(event({ type: 'track', userId: 'u', event: 'X', properties }));
    expect(outcome.state).toBe('failed');
    if (outcome.state === 'failed') expect(outcome.reason).toBe('Internal error while mapping the event (Error: getter blew up); please report it');
  });

  it('uses a client given in the options and leaves closing it to the caller', async () => {
    const client = new SailthruClient({ apiKey: CREDENTIALS.apiKey, sharedSecret: CREDENTIALS.secret, apiUrl: h.emulator.url });
    const d = createDestination(h.settings, { client });
    await d.close();
    const outcome = await d.deliver(track());
    expect(outcome.state).toBe('delivered');
    expect(d.client).toBe(client);
    await client.close();
  });
});
