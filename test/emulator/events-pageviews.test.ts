import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, type Client } from './signed-request.ts';

const account = { apiKey: 'ev-key', secret: 'ev-secret', customerId: 'cust-7' };
let emulator: RunningEmulator;
let client: Client;

beforeAll(async () => {
  emulator = await startEmulator(account);
  client = clientFor(emulator.url, account);
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe('POST /event', () => {
  it('records a custom event against the profile, creating it when new', async () => {
    const res = await client.post('/event', { id: 'u-ev', key: 'extid', event: 'Played Game', vars: { level: 3 } });
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
    const state = emulator.state({ key: 'extid', id: 'u-ev' });
    expect(state.events).toEqual([expect.objectContaining({ event: 'Played Game', id: 'u-ev', key: 'extid', vars: { level: 3 }, sid: state.profiles[0]!.sid })]);
  });

  it('answers the reserved names with HTTP 400 error 99 and records nothing', async () => {
    for (const name of ['send', 'cancel', 'open', 'click', 'purchase', 'daily']) {
      const res = await client.post('/event', { id: 'u-ev', key: 'extid', event: name });
      expect(res.status, name).toBe(400);
      expect(res.body).toEqual({ error: 99, errormsg: `Event name '${name}' is reserved` });
    }
    expect(emulator.state().events).toEqual([]);
  });

  it('requires event and id', async () => {
    expect((await client.post('/event', { id: 'u', key: 'extid' })).body).toEqual({ error: 2, errormsg: 'Missing required parameter: event' });
    expect((await client.post('/event', { event: 'x' })).body).toEqual({ error: 2, errormsg: 'Missing required parameter: id' });
  });
});

describe('POST /v1/track/event/pageview', () => {
  const pageview = (body: unknown, authorization?: string) =>
    fetch(`${emulator.url}/v1/track/event/pageview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });

  it('records a page view authorised by the customer id, linked to a known profile', async () => {
    await client.post('/user', { id: 'reader-1', key: 'extid' });
    const res = await pageview(
      { userIdKey: 'extid', userIdValue: 'reader-1', url: 'https://news.example/a', tags: 'sports,local', useStoredTags: false },
      'Bearer cust-7',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-rate-limit-limit')).toBe('2400');
    const state = emulator.state();
    expect(state.pageviews).toEqual([
      expect.objectContaining({ userIdKey: 'extid', userIdValue: 'reader-1', url: 'https://news.example/a', tags: 'sports,local', useStoredTags: false, sid: state.profiles[0]!.sid }),
    ]);
    const [logged] = emulator.requests({ path: '/v1/track/event/pageview' });
    expect(logged).toMatchObject({ method: 'POST', status: 200, signatureValid: null, payload: { url: 'https://news.example/a' } });
  });

  it('answers 401 without the bearer customer id, or with another one', async () => {
    for (const auth of [undefined, 'Bearer someone-else', 'Basic Y3VzdC03']) {
      const res = await pageview({ url: 'https://news.example/a' }, auth);
      expect(res.status, String(auth)).toBe(401);
      expect(((await res.json()) as { error: number }).error).toBe(5);
    }
    expect(emulator.state().pageviews).toEqual([]);
  });

  it('answers 400 when url is missing', async () => {
    const res = await pageview({ userIdKey: 'extid', userIdValue: 'x' }, 'Bearer cust-7');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 2, errormsg: 'Missing required parameter: url' });
  });
});
