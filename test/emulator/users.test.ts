import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, item, type Client } from './signed-request.ts';

const account = { apiKey: 'users-key', secret: 'users-secret' };
let emulator: RunningEmulator;
let client: Client;

beforeAll(async () => {
  emulator = await startEmulator(account);
  client = clientFor(emulator.url, account);
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe('POST /user and GET /user', () => {
  it('creates a profile with a generated sid and returns the default fields', async () => {
    const post = await client.post('/user', {
      id: 'u-1',
      key: 'extid',
      keys: { email: 'Ada@Example.com' },
      vars: { plan: 'gold', visits: 3 },
      lists: { Newsletter: 1 },
      optout_email: 'basic',
    });
    expect(post).toMatchObject({ status: 200, body: { ok: true } });
    const get = await client.get('/user', { id: 'u-1', key: 'extid' });
    expect(get.status).toBe(200);
    const keys = get.body.keys as Record<string, string>;
    expect(keys.extid).toBe('u-1');
    expect(keys.email).toBe('ada@example.com');
    expect(keys.sid).toMatch(/^[0-9a-f]{24}$/);
    expect(get.body.vars).toEqual({ plan: 'gold', visits: 3 });
    expect(Object.keys(get.body.lists as object)).toEqual(['Newsletter']);
    expect((get.body.lists as Record<string, string>).Newsletter).toMatch(/^\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
    expect(get.body.optout_email).toBe('basic');
    expect(get.body.engagement).toBe('new');
    // The same profile is found by email (case-insensitive) and by sid.
    const byEmail = await client.get('/user', { id: 'ADA@example.com', fields: { keys: 1 } });
    expect((byEmail.body.keys as Record<string, string>).sid).toBe(keys.sid);
    const bySid = await client.get('/user', { id: keys.sid, key: 'sid', fields: { keys: 1 } });
    expect((bySid.body.keys as Record<string, string>).extid).toBe('u-1');
  });

  it('updates vars (null removes one), leaves lists with 0, and returns fields when asked', async () => {
    await client.post('/user', { id: 'u-2', key: 'extid', vars: { a: 1, b: 2 }, lists: { L1: 1, L2: 1 } });
    const res = await client.post('/user', {
      id: 'u-2',
      key: 'extid',
      vars: { a: null, c: 'x' },
      lists: { L1: 0 },
      fields: { vars: 1, lists: 1 },
    });
    expect(res.status).toBe(200);
    expect(res.body.vars).toEqual({ b: 2, c: 'x' });
    expect(Object.keys(res.body.lists as object)).toEqual(['L2']);
  });

  it('answers an unknown user with HTTP 400 "User not found with …"', async () => {
    const res = await client.get('/user', { id: 'nobody', key: 'extid', fields: { keys: 1 } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 99, errormsg: "User not found with extid 'nobody'" });
  });

  it('answers an invalid email in keys with HTTP 200 and error 11, and stores nothing', async () => {
    const res = await client.post('/user', { id: 'u-3', key: 'extid', keys: { email: 'not-an-email' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ error: 11, errormsg: 'Invalid email: not-an-email' });
    expect(emulator.state().profiles).toEqual([]);
  });

  it('answers GET /user with an unparseable email as HTTP 200 with an error', async () => {
    const res = await client.get('/user', { id: 'foo@bar' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ error: 99, errormsg: 'Invalid email: foo@bar' });
  });

  it('requires id for GET /user', async () => {
    const res = await client.get('/user', { key: 'extid' });
    expect(res).toMatchObject({ status: 400, body: { error: 2, errormsg: 'Missing required parameter: id' } });
  });
});

describe('keysconflict', () => {
  async function seedTwoProfiles(): Promise<void> {
    // The anonymous visitor: a cart and an older var.
    await client.post('/user', { id: 'anon-1', key: 'extid', keys: { email: 'anon@example.com' }, vars: { color: 'red', seen: 1 } });
    await client.post('/purchase', { email: 'anon@example.com', incomplete: 1, items: [item('sku-1')] });
    // The known customer: a list, a purchase, an opt-out.
    await client.post('/user', { id: 'user-1', key: 'extid', vars: { color: 'blue', tier: 'vip' }, lists: { VIP: 1 }, optout_email: 'blast' });
    await client.post('/user', { id: 'user-1', key: 'extid', keys: { email: 'known@example.com' } });
    await client.post('/purchase', { email: 'known@example.com', items: [item('sku-2')], purchase_keys: { extid: 'order-1' } });
  }

  it('merges the other profile into the one named by id when a key being set belongs to it', async () => {
    await seedTwoProfiles();
    const before = emulator.state();
    const anonSid = before.profiles.find((p) => p.keys.extid === 'anon-1')!.sid;
    const userSid = before.profiles.find((p) => p.keys.extid === 'user-1')!.sid;

    const res = await client.post('/user', { id: 'anon-1', key: 'extid', keys: { extid: 'user-1' }, keysconflict: 'merge' });
    expect(res).toMatchObject({ status: 200, body: { ok: true } });

    const state = emulator.state();
    expect(state.profiles).toHaveLength(1);
    const merged = state.profiles[0]!;
    expect(merged.sid).toBe(anonSid);
    expect(merged.keys).toEqual({ sid: anonSid, extid: 'user-1', email: 'anon@example.com' });
    // The surviving profile's values win; the other's fill the gaps.
    expect(merged.vars).toEqual({ color: 'red', seen: 1, tier: 'vip' });
    expect(Object.keys(merged.lists)).toEqual(['VIP']);
    expect(merged.optout_email).toBe('blast');
    expect(merged.cart?.items.map((i) => i.id)).toEqual(['sku-1']);
    expect(merged.purchaseCount).toBe(1);
    expect(merged.mergedFrom).toEqual([userSid]);
    expect(state.purchases[0]!.sid).toBe(anonSid);
    expect(state.deletedUsers).toEqual([
      expect.objectContaining({ sid: userSid, reason: 'merged', mergedInto: anonSid, keys: { sid: userSid, extid: 'user-1', email: 'known@example.com' } }),
    ]);

    // The merged profile answers to the new extid; the absorbed sid is gone.
    const get = await client.get('/user', { id: 'user-1', key: 'extid', fields: { keys: 1, purchases: 1 } });
    expect((get.body.keys as Record<string, string>).sid).toBe(anonSid);
    expect((get.body.purchases as Array<{ purchase_keys: unknown }>)[0]!.purchase_keys).toEqual({ extid: 'order-1' });
    expect((await client.get('/user', { id: userSid, key: 'sid' })).status).toBe(400);
  });

  it('answers a key conflict with an error and changes nothing by default', async () => {
    await seedTwoProfiles();
    const before = emulator.state();
    const res = await client.post('/user', { id: 'anon-1', key: 'extid', keys: { email: 'known@example.com' }, vars: { x: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(99);
    expect(String(res.body.errormsg)).toMatch(/^Key conflict: email 'known@example.com' already belongs to another user/);
    expect(emulator.state().profiles).toEqual(before.profiles);
  });

  it('gives a new id to an existing profile found by a key when merging', async () => {
    await client.post('/purchase', { email: 'buyer@example.com', items: [item('sku-9')] });
    const sid = emulator.state().profiles[0]!.sid;
    const res = await client.post('/user', { id: 'buyer-1', key: 'extid', keys: { email: 'buyer@example.com' }, keysconflict: 'merge' });
    expect(res.status).toBe(200);
    const state = emulator.state();
    expect(state.profiles).toHaveLength(1);
    expect(state.profiles[0]!.keys).toEqual({ sid, email: 'buyer@example.com', extid: 'buyer-1' });
  });
});

describe('DELETE /user', () => {
  it('deletes by key, records the deletion, and answers 400 for an unknown user', async () => {
    await client.post('/user', { id: 'gone-1', key: 'extid', keys: { email: 'gone@example.com' } });
    const res = await client.delete('/user', { id: 'gone-1', key: 'extid' });
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
    const state = emulator.state();
    expect(state.profiles).toEqual([]);
    expect(state.deletedUsers).toEqual([expect.objectContaining({ reason: 'deleted', keys: expect.objectContaining({ extid: 'gone-1', email: 'gone@example.com' }) })]);
    expect((await client.get('/user', { id: 'gone@example.com' })).status).toBe(400);
    const again = await client.delete('/user', { id: 'gone-1', key: 'extid' });
    expect(again).toMatchObject({ status: 400, body: { error: 99, errormsg: "User not found with extid 'gone-1'" } });
  });

  it('deletes by email when no key is given', async () => {
    await client.post('/user', { id: 'by-email@example.com', vars: { a: 1 } });
    expect((await client.delete('/user', { id: 'by-email@example.com' })).status).toBe(200);
    expect(emulator.state().profiles).toEqual([]);
  });
});
