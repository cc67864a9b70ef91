import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureOf, startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, md5, type Client } from './signed-request.ts';

const account = { apiKey: 'key-abc', secret: 'secret-xyz' };
let emulator: RunningEmulator;
let client: Client;

beforeAll(async () => {
  emulator = await startEmulator({ ...account, port: 0 });
  client = clientFor(emulator.url, account);
});
afterAll(() => emulator.close());

describe('signature and parameters', () => {
  it('reproduces the reference vectors, including the one where sorting matters', () => {
    const seed =
      '{"id":"14092348","key":"extid","event":"Played Game","vars":{"levels_0":1,"levels_1":2,"levels_2":3,"arcade_blips and chitz_planet":"Parblesnops","arcade_galaxy_coordinates":"1232.4832","arcade_games_0":"Roy: A life well lived","arcade_games_1":"Whack a mole"}}';
    expect(signatureOf(['abcd12345', 'json', seed], '1324qwerty')).toBe('4c76e3b5b8e355a7e0647a2df6908efb');
    expect(signatureOf(['zz-key', 'json', seed], '1324qwerty')).toBe('a147519151037c82f00cda5c77fc5276');
    expect(signatureOf(['abcd12345', 'json', '{"id":"u","vars":{"n":"Zoë ✓"}}'], '1324qwerty')).toBe('0e3f86290ba95ea6c0687c70908fff77');
  });

  it('accepts a correctly signed POST (form body) and GET (query string)', async () => {
    const post = await client.post('/user', { id: 'sig-1', key: 'extid', vars: { plan: 'gold' } });
    expect(post.status).toBe(200);
    expect(post.body).toEqual({ ok: true });
    const get = await client.get('/user', { id: 'sig-1', key: 'extid', fields: { vars: 1 } });
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ vars: { plan: 'gold' } });
  });

  it('verifies UTF-8 payloads signed over the exact json text', async () => {
    const res = await client.post('/user', { id: 'sig-utf8', key: 'extid', vars: { n: 'Zoë ✓' } });
    expect(res.status).toBe(200);
    const got = await client.get('/user', { id: 'sig-utf8', key: 'extid', fields: { vars: 1 } });
    expect(got.body).toEqual({ vars: { n: 'Zoë ✓' } });
  });

  it('rejects a bad signature with HTTP 401 error 5 and changes nothing', async () => {
    const res = await client.post('/user', { id: 'sig-bad', key: 'extid' }, { secret: 'wrong-secret' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 5, errormsg: 'Authentication failed' });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(emulator.state({ key: 'extid', id: 'sig-bad' }).profiles).toEqual([]);
  });

  it('rejects an unknown api_key with HTTP 401 error 3', async () => {
    const res = await client.get('/user', { id: 'x', key: 'extid' }, { apiKey: 'someone-else' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 3, errormsg: 'Invalid API key' });
  });

  it('answers a missing parameter with HTTP 400 error 2 naming it', async () => {
    for (const name of ['api_key', 'sig', 'json'] as const) {
      const res = await client.post('/event', { id: 'x', key: 'extid', event: 'e' }, { omit: [name] });
      expect(res.status, name).toBe(400);
      expect(res.body).toEqual({ error: 2, errormsg: `Missing required parameter: ${name}` });
    }
  });

  it('reads POST parameters only from the form body and GET parameters only from the query string', async () => {
    const postInQuery = await client.post('/user', { id: 'q', key: 'extid' }, { placement: 'query' });
    expect(postInQuery.status).toBe(400);
    expect(postInQuery.body).toEqual({ error: 2, errormsg: 'Missing required parameter: api_key' });
    const getInBody = await client.delete('/user', { id: 'q', key: 'extid' }, { placement: 'form' });
    expect(getInBody.status).toBe(400);
    expect(getInBody.body.error).toBe(2);
  });

  it('signs every parameter sent, so the sorted order matters', async () => {
    // A key sorting after "json" and after "{": the naive concatenation would differ.
    const zz = { apiKey: 'zz-key', secret: 'zz-secret' };
    const zzEmulator = await startEmulator({ ...zz });
    try {
      const json = JSON.stringify({ id: 'z', key: 'extid' });
      const naive = md5(zz.secret + zz.apiKey + 'json' + json);
      const zzClient = clientFor(zzEmulator.url, zz);
      expect((await zzClient.post('/user', { id: 'z', key: 'extid' }, { sig: naive })).status).toBe(401);
      expect((await zzClient.post('/user', { id: 'z', key: 'extid' })).status).toBe(200);
    } finally {
      await zzEmulator.close();
    }
  });

  it('logs whether the signature was valid, never the sig or the secret', async () => {
    const since = emulator.lastRequestSeq;
    const good = await client.post('/user', { id: 'log-1', key: 'extid' });
    const badSig = md5('nope');
    await client.post('/user', { id: 'log-2', key: 'extid' }, { sig: badSig });
    expect(good.status).toBe(200);
    const logged = emulator.requests({ since });
    expect(logged.map((r) => [r.payload, r.signatureValid, r.status, r.errorCode])).toEqual([
      [{ id: 'log-1', key: 'extid' }, true, 200, null],
      [{ id: 'log-2', key: 'extid' }, false, 401, 5],
    ]);
    const overHttp = await (await fetch(`${emulator.url}/_emulator/requests?since=${since}`)).text();
    expect(overHttp).not.toContain(badSig);
    expect(overHttp).not.toContain(account.secret);
    expect(overHttp).toContain('"signatureValid":false');
  });

  it('answers an unsupported method with error 1 and an unknown path with 404', async () => {
    const del = await client.delete('/event', { id: 'x', key: 'extid', event: 'e' });
    expect(del.status).toBe(405);
    expect(del.body.error).toBe(1);
    const unknown = await fetch(`${emulator.url}/nope`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: number }).error).toBe(99);
  });
});
