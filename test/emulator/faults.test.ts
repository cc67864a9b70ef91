import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, item, signedParams } from './signed-request.ts';

const account = { apiKey: 'fault-key', secret: 'fault-secret' };
const open: RunningEmulator[] = [];

async function start(options: EmulatorOptions = {}) {
  const emulator = await startEmulator({ ...account, ...options });
  open.push(emulator);
  return { emulator, client: clientFor(emulator.url, account) };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

/** A POST /user sent with fetch directly, so that network failures surface as rejections. */
function rawPostUser(url: string, id: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: signedParams(account, { id, key: 'extid' }).toString(),
    ...(signal ? { signal } : {}),
  });
}

describe('faults', () => {
  it('failRate answers HTTP 500 with error 9 and does not apply the request', async () => {
    const { client, emulator } = await start({ faults: { failRate: 1 } });
    const res = await client.post('/user', { id: 'f-1', key: 'extid' });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: 9 });
    expect(res.headers.get('x-rate-limit-limit')).toBe('18000');
    expect(emulator.state().profiles).toEqual([]);
    expect(emulator.requests()[0]).toMatchObject({ status: 500, errorCode: 9, fault: 'fail' });
  });

  it('failStatus chooses the status of failures', async () => {
    const { client } = await start({ faults: { failRate: 1, failStatus: 503 } });
    expect((await client.post('/user', { id: 'f-2', key: 'extid' })).status).toBe(503);
  });

  it('error9Rate answers HTTP 200 with error 9 and does not apply the request', async () => {
    const { client, emulator } = await start({ faults: { error9Rate: 1 } });
    const res = await client.post('/event', { id: 'f-3', key: 'extid', event: 'E' });
    expect(res.status).toBe(200);
    expect(res.body.error).toBe(9);
    expect(emulator.state().events).toEqual([]);
  });

  it('latencyMs delays the answer and still applies the request', async () => {
    const { client, emulator } = await start({ faults: { latencyMs: 60 } });
    expect((await client.post('/user', { id: 'f-4', key: 'extid' })).status).toBe(200);
    expect(emulator.requests()[0]!.durationMs).toBeGreaterThanOrEqual(55);
    expect(emulator.state().profiles).toHaveLength(1);
  });

  it('dropRate closes the connection without an answer and does not apply the request', async () => {
    const { emulator } = await start({ faults: { dropRate: 1 } });
    await expect(rawPostUser(emulator.url, 'f-5')).rejects.toThrow();
    expect(emulator.state().profiles).toEqual([]);
    expect(emulator.requests()[0]).toMatchObject({ status: 0, fault: 'drop', payload: { id: 'f-5', key: 'extid' } });
  });

  it('hangRate holds the request until the client gives up, and close() releases hung requests', async () => {
    const { emulator } = await start({ faults: { hangRate: 1 } });
    await expect(rawPostUser(emulator.url, 'f-6', AbortSignal.timeout(200))).rejects.toThrow();
    expect(emulator.requests()[0]).toMatchObject({ status: 0, fault: 'hang' });
    expect(emulator.state().profiles).toEqual([]);
    // A request with no client timeout is released when the emulator closes.
    const pending = rawPostUser(emulator.url, 'f-7');
    while (emulator.requests().length < 2) await new Promise((r) => setTimeout(r, 10));
    await emulator.close();
    await expect(pending).rejects.toThrow();
  });

  it('endpoints limits the faults to the routes named', async () => {
    const { client } = await start({ faults: { failRate: 1, endpoints: ['POST /purchase'] } });
    expect((await client.post('/user', { id: 'f-8', key: 'extid' })).status).toBe(200);
    expect((await client.get('/user', { id: 'f-8', key: 'extid' })).status).toBe(200);
    expect((await client.post('/purchase', { email: 'f8@example.com', items: [item('a')] })).status).toBe(500);
  });

  it('applyThenFail applies the next request, answers 500, then lets the following ones through', async () => {
    const { client, emulator } = await start({ faults: { applyThenFail: { 'POST /purchase': 1 } } });
    const order = { email: 'once@example.com', items: [item('a')], purchase_keys: { extid: 'o-1' } };
    // A request that fails validation does not use up the fault.
    expect((await client.post('/purchase', { email: 'once@example.com', items: [] })).status).toBe(400);
    const first = await client.post('/purchase', order);
    expect(first.status).toBe(500);
    expect(first.body.error).toBe(9);
    expect(emulator.state().purchases).toHaveLength(1);
    const retry = await client.post('/purchase', order);
    expect(retry.status).toBe(200);
    expect(emulator.state().purchases).toHaveLength(2);
    expect(emulator.requests({ path: '/purchase' }).map((r) => r.fault ?? null)).toEqual([null, 'apply-then-500', null]);
    expect(emulator.faults().applyThenFail).toBeUndefined();
  });

  it('applyThenFail can drop the connection after applying', async () => {
    const { emulator } = await start({ faults: { applyThenFail: { 'POST /user': { count: 1, mode: 'drop' } } } });
    await expect(rawPostUser(emulator.url, 'f-9')).rejects.toThrow();
    expect(emulator.state({ key: 'extid', id: 'f-9' }).profiles).toHaveLength(1);
    expect(emulator.requests()[0]).toMatchObject({ status: 0, fault: 'apply-then-drop' });
  });

  it('applyThenFail can hang after applying, so the client times out on a change that landed', async () => {
    const { emulator } = await start({ faults: { applyThenFail: { '/user': { count: 1, mode: 'hang' } } } });
    await expect(rawPostUser(emulator.url, 'f-10', AbortSignal.timeout(200))).rejects.toThrow();
    expect(emulator.state({ key: 'extid', id: 'f-10' }).profiles).toHaveLength(1);
    expect(emulator.requests()[0]).toMatchObject({ status: 0, fault: 'apply-then-hang' });
  });

  it('is deterministic for a seed', async () => {
    const statuses = async (seed: number): Promise<number[]> => {
      const { client } = await start({ faults: { failRate: 0.3, error9Rate: 0.3, seed } });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await client.post('/user', { id: `s-${i}`, key: 'extid' });
        out.push(res.body.error === 9 ? res.status * 10 + 9 : res.status);
      }
      return out;
    };
    const a = await statuses(42);
    const b = await statuses(42);
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set([200, 500 * 10 + 9, 200 * 10 + 9]));
  });

  it('is set, read and cleared over HTTP, and rejects nonsense', async () => {
    const { client, emulator } = await start();
    const set = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ error9Rate: 1, endpoints: ['/event'], applyThenFail: { 'POST /user': 2 } }),
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({
      faults: { error9Rate: 1, endpoints: ['/event'], applyThenFail: { 'POST /user': { count: 2, mode: '500' } } },
    });
    expect((await client.post('/event', { id: 'x', key: 'extid', event: 'E' })).body.error).toBe(9);
    const bad = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ failRate: 2 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errormsg: string }).errormsg).toBe('failRate must be a number from 0 to 1');
    await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: '{}' });
    expect((await (await fetch(`${emulator.url}/_emulator/faults`)).json())).toEqual({ faults: {} });
    expect((await client.post('/event', { id: 'x', key: 'extid', event: 'E' })).status).toBe(200);
  });
});
