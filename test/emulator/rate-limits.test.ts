import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, type CallResult } from './signed-request.ts';

const account = { apiKey: 'rl-key', secret: 'rl-secret' };
const open: RunningEmulator[] = [];

async function start(options: EmulatorOptions = {}) {
  const emulator = await startEmulator({ ...account, ...options });
  open.push(emulator);
  return { emulator, client: clientFor(emulator.url, account) };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

const header = (r: CallResult, name: string): number => Number(r.headers.get(`x-rate-limit-${name}`));

describe('rate limits', () => {
  it("advertises Sailthru's per-minute defaults and a reset on a minute boundary", async () => {
    const { client } = await start();
    const checks: Array<[Promise<CallResult>, number]> = [
      [client.post('/user', { id: 'a', key: 'extid' }), 18000],
      [client.get('/user', { id: 'a', key: 'extid' }), 18000],
      [client.post('/event', { id: 'a', key: 'extid', event: 'e' }), 2400],
      [client.post('/purchase', { email: 'a@example.com', items: [] }), 2400],
      [client.delete('/user', { id: 'a', key: 'extid' }), 2400],
      [client.get('/job', { job_id: 'x' }), 18000],
    ];
    for (const [pending, limit] of checks) {
      const res = await pending;
      expect(header(res, 'limit')).toBe(limit);
      expect(header(res, 'remaining')).toBe(limit - 1);
      expect(header(res, 'reset') % 60).toBe(0);
      expect(header(res, 'reset') * 1000).toBeGreaterThan(Date.now() - 1000);
    }
  });

  it('scales the defaults to a shorter window and takes explicit limits, announcing them per minute', async () => {
    const { client, emulator } = await start({ windowMs: 1000, limits: { 'POST /event': 7 } });
    // 300, 40 and 7 per 1-second window; the headers keep Sailthru's per-minute meaning.
    expect(header(await client.post('/user', { id: 'a', key: 'extid' }), 'limit')).toBe(18000);
    expect(header(await client.post('/purchase', { email: 'a@example.com', incomplete: 1, items: [] }), 'limit')).toBe(2400);
    expect(header(await client.post('/event', { id: 'a', key: 'extid', event: 'e' }), 'limit')).toBe(420);
    expect(emulator.rateLimits()).toEqual({ windowMs: 1000, limits: { 'POST /event': 7 } });
  });

  it('answers 429 with error 43 once the window is spent, counting every request of the route', async () => {
    const limit = 5;
    const { client, emulator } = await start({ windowMs: 1000, limits: { 'POST /event': limit } });
    const results: CallResult[] = [];
    // Send until a 429 arrives; requests are grouped by window (X-Rate-Limit-Reset) so a window
    // that rolls over mid-run cannot make the counts wrong.
    while (!results.some((r) => r.status === 429)) {
      results.push(await client.post('/event', { id: 'u', key: 'extid', event: 'Tick' }));
      if (results.length > 50) throw new Error('no 429 after 50 requests');
    }
    const limited = results.at(-1)!;
    const window = results.filter((r) => header(r, 'reset') === header(limited, 'reset'));
    expect(window.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    // Per minute: 5 per 1-second window is 300/min, 4 left is 240/min.
    expect(window.map((r) => header(r, 'remaining'))).toEqual([240, 180, 120, 60, 0, 0]);
    expect(window.every((r) => header(r, 'limit') === limit * 60)).toBe(true);
    expect(limited.body).toEqual({ error: 43, errormsg: 'Too many POST requests this minute to /event API' });
    expect(header(limited, 'reset')).toBeGreaterThan(0);
    // Other routes have their own budget; the limited request was logged and not applied.
    expect((await client.post('/user', { id: 'u', key: 'extid' })).status).toBe(200);
    const last = emulator.requests({ path: '/event' }).at(-1)!;
    expect(last).toMatchObject({ status: 429, errorCode: 43 });
    const applied = emulator.state().events.length;
    expect(applied).toBe(results.filter((r) => r.status === 200).length);
  });

  it('counts requests that fail authentication too, and carries the headers on errors', async () => {
    const { client } = await start({ limits: { 'GET /user': 2 } });
    const bad = await client.get('/user', { id: 'x', key: 'extid' }, { secret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(header(bad, 'remaining')).toBe(1);
    await client.get('/user', { id: 'x', key: 'extid' });
    const third = await client.get('/user', { id: 'x', key: 'extid' });
    if (header(third, 'reset') === header(bad, 'reset')) {
      expect(third.status).toBe(429);
      expect(third.body.error).toBe(43);
    } else {
      // The minute turned between the calls: the third is the first of a new window.
      expect(header(third, 'remaining')).toBe(1);
    }
  });

  it('can change limits at runtime and resets counters', async () => {
    const { client, emulator } = await start();
    const res = await fetch(`${emulator.url}/_emulator/limits`, { method: 'POST', body: JSON.stringify({ limits: { 'POST /user': 0 } }) });
    expect(await res.json()).toEqual({ windowMs: 60000, limits: { 'POST /user': 0 } });
    const limited = await client.post('/user', { id: 'x', key: 'extid' });
    expect(limited.status).toBe(429);
    expect(limited.body.errormsg).toBe('Too many POST requests this minute to /user API');
  });
});
