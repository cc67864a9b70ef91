import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SHARED_SECRET, WRITE_KEY, startAdminHarness, type AdminHarness } from './admin-fixtures.ts';

/**
 * Several named admin tokens with roles, and the history of who did what (GET /api/audit), over
 * real HTTP against a real SQLite store, worker and Sailthru emulator.
 */

const ALICE = 'alice-token-for-tests-0a1b2c3d4e5f';
const VICTOR = 'victor-viewer-token-for-tests-9z8y7x';

let h: AdminHarness;
const logLines: string[] = [];

beforeAll(async () => {
  h = await startAdminHarness({ env: { ADMIN_TOKENS: `alice:${ALICE},victor:viewer:${VICTOR}` }, logLines });
});

afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, unknown>;
const entries = async (query = '', token = ADMIN_TOKEN) => {
  const res = await h.api('GET', `/api/audit${query}`, undefined, token);
  expect(res.status, res.text).toBe(200);
  return res.json.entries as Json[];
};

async function deadLetter(userId: string, token = ADMIN_TOKEN): Promise<number> {
  const res = await h.api('POST', '/api/test-events', { event: { type: 'track', userId, event: 'purchase' } }, token);
  expect(res.status, res.text).toBe(200);
  const event = res.json.event as Json;
  expect(event.state).toBe('failed');
  return event.id as number;
}

describe('named tokens and roles', () => {
  it('knows each token by its name and role; ADMIN_TOKEN is the admin named "admin"', async () => {
    expect((await h.api('GET', '/api/whoami')).json).toEqual({ name: 'admin', role: 'admin', channel: 'api' });
    expect((await h.api('GET', '/api/whoami', undefined, ALICE)).json).toEqual({ name: 'alice', role: 'admin', channel: 'api' });
    expect((await h.api('GET', '/api/whoami', undefined, VICTOR)).json).toEqual({ name: 'victor', role: 'viewer', channel: 'api' });
  });

  it('a viewer reads everything and changes nothing: every action answers 403 saying why', async () => {
    const dead = await deadLetter('viewer-target');
    for (const path of ['/api/destinations', '/api/events', `/api/events/${dead}`, '/api/overview', '/api/audit', '/api/destinations/default/write-keys']) {
      expect((await h.api('GET', path, undefined, VICTOR)).status, path).toBe(200);
    }
    const before = (await entries()).length;
    const actions: Array<[string, string, unknown]> = [
      ['POST', `/api/events/${dead}/drop`, undefined],
      ['POST', `/api/events/${dead}/retry`, undefined],
      ['POST', '/api/deadletters/drop', { filter: {} }],
      ['POST', '/api/deadletters/retry', { filter: {} }],
      ['PATCH', '/api/destinations/default', { settings: { defaultList: 'x' } }],
      ['POST', '/api/destinations', { name: 'new', settings: {} }],
      ['DELETE', '/api/destinations/default', undefined],
      ['POST', '/api/destinations/default/pause', {}],
      ['POST', '/api/destinations/default/resume', {}],
      ['POST', '/api/destinations/default/write-keys', { label: 'x' }],
      ['POST', '/api/destinations/default/test-connection', {}],
      ['POST', '/api/users/someone/delete', {}],
      ['POST', '/api/test-events', { event: { type: 'track', userId: 'v', event: 'X' } }],
    ];
    for (const [method, path, body] of actions) {
      const res = await h.api(method, path, body, VICTOR);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error, `${method} ${path}`).toMatch(/"victor" signed in with a viewer token: it can read everything but change nothing/);
    }
    // Nothing happened: the dead letter is still one, the destination unpaused, no action recorded.
    expect(((await h.api('GET', `/api/events/${dead}`)).json.event as Json).state).toBe('failed');
    expect(((await h.api('GET', '/api/destinations/default')).json.destination as Json).paused).toBe(false);
    expect((await entries()).length).toBe(before);
  });
});

describe('GET /api/audit', () => {
  it('records each action with who, what, filter or target, count, address and channel', async () => {
    const dead = await deadLetter('audit-one', ALICE);
    await deadLetter('audit-many', ALICE);
    await deadLetter('audit-many', ALICE);
    expect((await h.api('POST', `/api/events/${dead}/retry`, undefined, ALICE)).json).toEqual({ retried: 1 });
    expect((await h.api('POST', '/api/deadletters/drop', { filter: { userId: 'audit-many', destination: 'default' } }, ALICE)).json).toEqual({ dropped: 2 });
    await h.api('POST', '/api/destinations/default/pause', { reason: 'maintenance' }, ALICE);
    await h.api('POST', '/api/destinations/default/resume', undefined, ALICE);
    expect((await h.api('PATCH', '/api/destinations/default', { settings: { defaultListName: 'Audit List', sharedSecret: SHARED_SECRET } }, ALICE)).status).toBe(200);
    const created = await h.api('POST', '/api/destinations/default/write-keys', { label: 'audit key' }, ALICE);
    const keyId = (created.json.writeKey as Json).id as string;
    await h.api('DELETE', `/api/write-keys/${keyId}`, undefined, ALICE);
    await h.api('POST', '/api/users/audit-gone/delete', {}, ALICE);

    const log = await entries('?limit=100');
    const byAlice = log.filter((e) => e.actor === 'alice');
    const actions = byAlice.map((e) => e.action);
    for (const action of ['test-event.send', 'event.retry', 'dead-letters.drop', 'destination.pause', 'destination.resume', 'settings.change', 'write-key.create', 'write-key.revoke', 'user.delete']) {
      expect(actions, action).toContain(action);
    }
    const drop = byAlice.find((e) => e.action === 'dead-letters.drop')!;
    expect(drop).toMatchObject({ channel: 'api', source: '127.0.0.1', filter: { userId: 'audit-many', destination: 'default' }, count: 2 });
    expect(Date.parse(drop.at as string)).not.toBeNaN();
    expect(byAlice.find((e) => e.action === 'event.retry')).toMatchObject({ target: `event ${dead}`, count: 1 });
    expect(byAlice.find((e) => e.action === 'destination.pause')).toMatchObject({ target: 'default', detail: 'maintenance' });
    // Which settings changed, never their values (the secret among them unchanged, so not named).
    expect(byAlice.find((e) => e.action === 'settings.change')).toMatchObject({ target: 'default', detail: 'changed: defaultListName' });
    expect(byAlice.find((e) => e.action === 'write-key.revoke')).toMatchObject({ target: keyId, detail: '"audit key" of default' });
    // Newest first.
    const ids = log.map((e) => e.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('says the CLI when the CLI asks, and records wrong tokens as failed sign-ins', async () => {
    const res = await fetch(`${h.url}/api/deadletters/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json', 'user-agent': 'sailthru-destination-cli/1.0' },
      body: JSON.stringify({ filter: { userId: 'nobody-at-all' } }),
    });
    expect(await res.json()).toEqual({ retried: 0 });
    expect((await entries('?action=dead-letters.retry'))[0]).toMatchObject({ actor: 'alice', channel: 'cli', count: 0, filter: { userId: 'nobody-at-all' } });

    expect((await h.api('GET', '/api/destinations', undefined, 'not-a-token-at-all')).status).toBe(401);
    const failed = (await entries('?action=sign-in.failed'))[0]!;
    expect(failed).toMatchObject({ actor: null, channel: 'api', source: '127.0.0.1', detail: 'wrong admin token on GET /api/destinations' });
  });

  it('pages newest first, filters by action, says which parameter is wrong; viewers may read it', async () => {
    const first = await h.api('GET', '/api/audit?limit=2');
    expect((first.json.entries as Json[]).length).toBe(2);
    const next = first.json.nextBefore as number;
    expect(next).toEqual((first.json.entries as Json[])[1]!.id);
    const older = await entries(`?limit=2&before=${next}`);
    expect(older.every((e) => (e.id as number) < next)).toBe(true);
    expect((await entries('?action=destination.pause', VICTOR)).every((e) => e.action === 'destination.pause')).toBe(true);
    const bad = await h.api('GET', '/api/audit?action=explode&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.json.problems).toEqual([expect.stringMatching(/^action must be one of sign-in.failed, /), 'limit must be a whole number from 1 to 500 (got "0")']);
  });

  it('never puts a token or secret in a response or a log line', () => {
    const secrets = [ADMIN_TOKEN, ALICE, VICTOR, SHARED_SECRET, WRITE_KEY];
    for (const text of h.seen) for (const secret of secrets) expect(text).not.toContain(secret);
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});
