import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, item, type Client } from './signed-request.ts';

const account = { apiKey: 'insp-key', secret: 'insp-secret', customerId: 'insp-cust' };
let emulator: RunningEmulator;
let client: Client;

beforeAll(async () => {
  emulator = await startEmulator({ ...account, maxRequestLog: 5, limits: { 'POST /event': 3 } });
  client = clientFor(emulator.url, account);
});
afterAll(() => emulator.close());

const getJson = async <T>(path: string): Promise<T> => (await (await fetch(`${emulator.url}${path}`)).json()) as T;

describe('inspection API', () => {
  it('shows state over HTTP and in process, whole or for one user', async () => {
    await client.post('/user', { id: 'i-1', key: 'extid', keys: { email: 'i1@example.com' }, vars: { a: 1 } });
    await client.post('/user', { id: 'i-2', key: 'extid' });
    await client.post('/purchase', { email: 'i1@example.com', items: [item('a')] });
    await client.post('/event', { id: 'i-1', key: 'extid', event: 'Seen' });
    await fetch(`${emulator.url}/v1/track/event/pageview`, {
      method: 'POST',
      headers: { authorization: 'Bearer insp-cust' },
      body: JSON.stringify({ userIdKey: 'extid', userIdValue: 'i-2', url: 'https://x.example/' }),
    });
    const overHttp = await getJson<ReturnType<RunningEmulator['state']>>('/_emulator/state');
    expect(overHttp).toEqual(emulator.state());
    expect(overHttp.counts).toMatchObject({ profiles: 2, purchases: 1, events: 1, pageviews: 1, carts: 0 });

    const one = await getJson<ReturnType<RunningEmulator['state']>>('/_emulator/state?key=extid&id=i-1');
    expect(one.profiles.map((p) => p.keys.extid)).toEqual(['i-1']);
    expect(one.purchases).toHaveLength(1);
    expect(one.events.map((e) => e.event)).toEqual(['Seen']);
    expect(one.pageviews).toEqual([]);
    // A snapshot is a copy: changing it does not change the emulator.
    emulator.state().profiles[0]!.vars.a = 99;
    expect(emulator.state({ key: 'extid', id: 'i-1' }).profiles[0]!.vars.a).toBe(1);
  });

  it('keeps the newest requests and filters them by since, path and method', async () => {
    const before = emulator.lastRequestSeq;
    await client.post('/user', { id: 'r-1', key: 'extid' });
    await client.get('/user', { id: 'r-1', key: 'extid' });
    await client.post('/event', { id: 'r-1', key: 'extid', event: 'E' });
    const all = await getJson<{ requests: Array<{ seq: number; method: string; path: string }>; lastSeq: number }>(
      `/_emulator/requests?since=${before}`,
    );
    expect(all.lastSeq).toBe(before + 3);
    expect(all.requests.map((r) => [r.seq, r.method, r.path])).toEqual([
      [before + 1, 'POST', '/user'],
      [before + 2, 'GET', '/user'],
      [before + 3, 'POST', '/event'],
    ]);
    const users = await getJson<{ requests: Array<{ method: string }> }>(`/_emulator/requests?since=${before}&path=/user&method=get`);
    expect(users.requests.map((r) => r.method)).toEqual(['GET']);
    expect(emulator.requests({ since: before, path: '/user' })).toHaveLength(2);
    expect(emulator.requests({ limit: 1 }).map((r) => r.seq)).toEqual([before + 3]);
    // The log is bounded (maxRequestLog 5): older entries are gone.
    expect(emulator.requests().length).toBe(5);
    expect(emulator.requests()[0]!.seq).toBe(emulator.lastRequestSeq - 4);
  });

  it('resets state, requests, faults and rate-limit counters', async () => {
    for (let i = 0; i < 4; i++) await client.post('/event', { id: 'z', key: 'extid', event: 'E' });
    emulator.setFaults({ failRate: 1, endpoints: ['/purchase'] });
    const lastSeq = emulator.lastRequestSeq;
    const res = await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' });
    expect(await res.json()).toEqual({ ok: true });
    const state = emulator.state();
    expect(state.profiles).toEqual([]);
    expect(state.purchases).toEqual([]);
    expect(state.events).toEqual([]);
    expect(state.counts).toEqual({ profiles: 0, carts: 0, purchases: 0, returns: 0, events: 0, pageviews: 0, deletedUsers: 0, jobs: 0 });
    expect(emulator.requests()).toEqual([]);
    expect(emulator.faults()).toEqual({});
    const event = await client.post('/event', { id: 'z', key: 'extid', event: 'E' });
    expect(event.status).toBe(200);
    expect(event.headers.get('x-rate-limit-remaining')).toBe('2');
    expect((await client.post('/purchase', { email: 'z@example.com', items: [item('a')] })).status).toBe(200);
    // Sequence numbers keep increasing so a poller using since= never misses a request.
    expect(emulator.requests()[0]!.seq).toBe(lastSeq + 1);
  });

  it('answers unknown inspection routes with 404', async () => {
    expect((await fetch(`${emulator.url}/_emulator/nothing`)).status).toBe(404);
  });
});
