import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startAdminHarness, type AdminHarness } from './admin-fixtures.ts';

/**
 * Two operators editing a destination's mappings at once (docs/mappings.md, "Two operators at
 * once"): the list has a revision (ETag); a write based on a stale one is refused with 409 and
 * changes nothing; writes without one never lose each other's changes. Real HTTP, real SQLite.
 */

const BOB = 'bob-the-second-admin-token-77665544';
let h: AdminHarness;

beforeAll(async () => {
  h = await startAdminHarness({ env: { ADMIN_TOKENS: `bob:admin:${BOB}` } });
});

afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, unknown>;
const PATH = '/api/destinations/default/mappings';

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token = ADMIN_TOKEN) {
  const res = await fetch(h.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), json: JSON.parse(text) as Json, text };
}

const mapping = (id: string, extra: Json = {}) => ({ id, name: `Mapping ${id}`, enabled: true, trigger: { types: ['track'], event: { equals: id } }, action: 'custom-event', ...extra });

describe('mappings: optimistic concurrency', () => {
  it('answers the revision as ETag; a stale PUT or PATCH gets 409 naming the revisions, and nothing changes', async () => {
    const read = await call('GET', PATH);
    expect(read.status).toBe(200);
    const r0 = read.json.revision as string;
    expect(r0).toMatch(/^[0-9a-f]{16}$/);
    expect(read.etag).toBe(`"${r0}"`);

    // Alice (admin) and Bob both read r0; Alice saves first.
    const alice = await call('PUT', PATH, { mappings: [mapping('alice')] }, { 'if-match': `"${r0}"` });
    expect(alice.status, alice.text).toBe(200);
    const r1 = alice.json.revision as string;
    expect(r1).not.toBe(r0);
    expect(alice.etag).toBe(`"${r1}"`);

    const bob = await call('PUT', PATH, { mappings: [mapping('bob')], revision: r0 }, {}, BOB);
    expect(bob.status, bob.text).toBe(409);
    expect(bob.json.code).toBe('ADMIN_MAPPINGS_CHANGED');
    expect(bob.json.error).toContain(`revision ${r0}, now ${r1}`);
    const bobPatch = await call('PATCH', `${PATH}/alice`, { enabled: false }, { 'if-match': `W/"${r0}"` }, BOB);
    expect(bobPatch.status, bobPatch.text).toBe(409);
    const now = await call('GET', PATH);
    expect((now.json.mappings as Json[]).map((m) => [m.id, m.enabled])).toEqual([['alice', true]]);
    expect(now.json.revision).toBe(r1);

    // With the current revision, it goes through; a revision that is not text is refused.
    expect((await call('PATCH', `${PATH}/alice`, { enabled: false }, { 'if-match': `"${r1}"` }, BOB)).status).toBe(200);
    expect((await call('PUT', PATH, { mappings: [], revision: 5 })).status).toBe(400);
    // `*` and no revision at all: unconditional, as before.
    expect((await call('PUT', PATH, { mappings: null }, { 'if-match': '*' })).status).toBe(200);
  });

  it('concurrent writes without a revision never lose one another (each PATCH applies to the list as it is)', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `m${i}`);
    expect((await call('PUT', PATH, { mappings: ids.map((id) => mapping(id)) })).status).toBe(200);
    const answers = await Promise.all(ids.map((id, i) => call('PATCH', `${PATH}/${id}`, { enabled: false }, {}, i % 2 === 0 ? ADMIN_TOKEN : BOB)));
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    const after = await call('GET', PATH);
    expect((after.json.mappings as Json[]).filter((m) => m.enabled === true).map((m) => m.id)).toEqual([]);
  });

  it('a body with a __proto__ key is refused saying so, not as a syntax error, and pollutes nothing', async () => {
    const res = await fetch(h.url + PATH, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"mappings":[{"__proto__":{"enabled":true},"id":"a","name":"A","enabled":true,"trigger":{"types":["track"]},"action":"drop"}]}',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ code: 'ADMIN_INVALID_REQUEST' });
    expect(body.error).toContain('"__proto__"');
    expect(({} as Json).enabled).toBeUndefined();
  });
});
