import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { SailthruClient } from '../../src/sailthru/client.ts';
import { classifyError } from '../../src/sailthru/classify.ts';
import type { SailthruResult } from '../../src/sailthru/types.ts';

// Every error class of the client, produced by the emulator over real HTTP.
let emu: RunningEmulator;
const creds = () => ({ apiKey: 'key-1', sharedSecret: 'secret-1', apiUrl: emu.url, trackUrl: emu.url, customerId: 'cust-1' });

beforeAll(async () => {
  emu = await startEmulator({ apiKey: 'key-1', secret: 'secret-1', customerId: 'cust-1', windowMs: 60_000 });
});
afterAll(() => emu.close());
beforeEach(() => emu.reset());

async function withClient<T>(fn: (c: SailthruClient) => Promise<T>, opts: { timeoutMs?: number; secret?: string; apiKey?: string } = {}) {
  const c = new SailthruClient(
    { ...creds(), ...(opts.secret ? { sharedSecret: opts.secret } : {}), ...(opts.apiKey ? { apiKey: opts.apiKey } : {}) },
    { timeoutMs: opts.timeoutMs ?? 5_000 },
  );
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

function failure(res: SailthruResult) {
  expect(res.ok).toBe(false);
  if (res.ok) throw new Error('expected a failure');
  return res;
}

describe('retryable', () => {
  it('network error: nothing listening', async () => {
    const res = failure(
      await (async () => {
        const c = new SailthruClient({ ...creds(), apiUrl: 'http://127.0.0.1:1' });
        try {
          return await c.postUser({ id: 'u' });
        } finally {
          await c.close();
        }
      })(),
    );
    expect(res).toMatchObject({ status: 0, code: null, class: 'retryable' });
    expect(res.message).toContain('ECONNREFUSED');
  });

  it('timeout: the emulator holds the request past the client timeout', async () => {
    emu.setFaults({ hangRate: 1 });
    const res = failure(await withClient((c) => c.postUser({ id: 'u' }), { timeoutMs: 300 }));
    expect(res).toMatchObject({ status: 0, class: 'retryable' });
    expect(res.message).toMatch(/No answer .* within 300 ms/);
  });

  it('dropped connection', async () => {
    emu.setFaults({ dropRate: 1 });
    const res = failure(await withClient((c) => c.postUser({ id: 'u' })));
    expect(res).toMatchObject({ status: 0, class: 'retryable' });
  });

  it('HTTP 500', async () => {
    emu.setFaults({ failRate: 1 });
    const res = failure(await withClient((c) => c.postEvent({ id: 'u', key: 'extid', event: 'E' })));
    expect(res.status).toBe(500);
    expect(res.class).toBe('retryable');
  });

  it('Sailthru error 9 on HTTP 200', async () => {
    emu.setFaults({ error9Rate: 1 });
    const res = failure(await withClient((c) => c.postEvent({ id: 'u', key: 'extid', event: 'E' })));
    expect(res).toMatchObject({ status: 200, code: 9, class: 'retryable' });
  });

  it('HTTP 429 / error 43 waits until X-Rate-Limit-Reset', async () => {
    emu.setRateLimits({ windowMs: 60_000, limits: { 'POST /event': 2 } });
    const results = await withClient(async (c) => {
      const out: SailthruResult[] = [];
      for (let i = 0; i < 3; i++) out.push(await c.postEvent({ id: 'u', key: 'extid', event: 'E' }));
      return out;
    });
    expect(results[0]!.ok && results[1]!.ok).toBe(true);
    const res = failure(results[2]!);
    expect(res).toMatchObject({ status: 429, code: 43, class: 'retryable' });
    expect(res.rateLimit).toMatchObject({ limit: 2, remaining: 0 });
    // The wait is exactly the distance to the reset the headers announced.
    const resetMs = res.rateLimit!.reset * 1000;
    expect(res.retryAfterMs).toBeGreaterThan(0);
    expect(res.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(Date.now() + res.retryAfterMs!).toBeGreaterThanOrEqual(resetMs - 5_000);
  });
});

describe('account-wide', () => {
  it('an unknown API key (error 3, HTTP 401)', async () => {
    const res = failure(await withClient((c) => c.postUser({ id: 'u' }), { apiKey: 'not-the-key' }));
    expect(res).toMatchObject({ status: 401, code: 3, class: 'account' });
  });

  it('a bad signature from a wrong secret (error 5, HTTP 401)', async () => {
    const res = failure(await withClient((c) => c.postUser({ id: 'u' }), { secret: 'wrong-secret' }));
    expect(res).toMatchObject({ status: 401, code: 5, class: 'account' });
    expect(res.message).not.toContain('wrong-secret');
  });

  it('errors 4 and 21 (the emulator has no IP allow-list or approval): pinned on the classifier', () => {
    expect(classifyError(403, 4, undefined, 0).class).toBe('account');
    expect(classifyError(400, 21, undefined, 0).class).toBe('account');
    expect(classifyError(500, 3, undefined, 0).class).toBe('account');
  });
});

describe('permanent', () => {
  it('User not found (HTTP 400)', async () => {
    const res = failure(await withClient((c) => c.getUser({ id: 'nobody', key: 'extid' })));
    expect(res.status).toBe(400);
    expect(res.class).toBe('permanent');
    expect(res.message).toMatch(/^User not found with/);
  });

  it('an invalid email answered with HTTP 200 and an error body', async () => {
    const res = failure(await withClient((c) => c.postUser({ id: 'u', key: 'extid', keys: { email: 'foo@bar' } })));
    expect(res).toMatchObject({ status: 200, code: 11, class: 'permanent' });
    expect(res.message).toContain('Invalid email');
  });

  it('a reserved event name', async () => {
    const res = failure(await withClient((c) => c.postEvent({ id: 'u', key: 'extid', event: 'purchase' })));
    expect(res.status).toBe(400);
    expect(res.class).toBe('permanent');
  });

  it('every call carries its record for the delivery log, without the secret or sig', async () => {
    const res = failure(await withClient((c) => c.postEvent({ id: 'u', key: 'extid', event: 'open' })));
    expect(res.call).toMatchObject({ method: 'POST', endpoint: '/event', status: 400, payload: { id: 'u', key: 'extid', event: 'open' } });
    expect(JSON.stringify(res)).not.toContain('secret-1');
    expect(JSON.stringify(res)).not.toContain('"sig"');
  });
});
