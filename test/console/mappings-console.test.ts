import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, type PageAnswer } from '../reliability/support/console-client.ts';
import { ADMIN_TOKEN, WRITE_KEY, startAdminHarness, type AdminHarness } from '../server/admin-fixtures.ts';

/**
 * The console's mappings pages over HTTP (issue 21): the list with its cost, the form with
 * validation messages at their fields, reorder, disable, delete with confirmation, the tester on
 * pasted and logged events, a viewer sees no forms and is refused, a post without the CSRF token
 * changes nothing. Every change goes through the admin service (recorded in Activity).
 */

const VICTOR = 'victor-viewer-token-for-mappings-01';
const BOB = 'bob-second-admin-token-for-mappings-02';
let h: AdminHarness;
let admin: ConsoleClient;
let csrf: string;
let dest: string;

const ids = async (): Promise<string[]> => ((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings as Array<{ id: string }>).map((m) => m.id);

beforeAll(async () => {
  h = await startAdminHarness({ env: { ADMIN_TOKENS: `victor:viewer:${VICTOR},bob:admin:${BOB}` } });
  dest = ((await h.api('GET', '/api/destinations')).json.destinations as Array<{ id: string }>)[0]!.id;
  admin = new ConsoleClient(h.url);
  await admin.signIn(ADMIN_TOKEN);
  csrf = ConsoleClient.csrfOf(await admin.get('/'));
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

function fieldError(page: PageAnswer, id: string): string {
  return /<p class="field-error" id="([^"]+)-error">([^<]*)<\/p>/g.exec(page.text.slice(page.text.indexOf(`id="${id}-error"`) - 40))?.[2] ?? '';
}

describe('console mappings', () => {
  it('lists the defaults with their cost, linked from the destination page', async () => {
    const settings = await admin.get(`/destinations/${dest}`);
    expect(settings.text).toContain(`href="/destinations/${dest}/mappings"`);
    const res = await fetch(`${h.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
      body: JSON.stringify({ userId: 'cost-user', event: 'Cost Thing', properties: { email: 'cost@example.com' } }),
    });
    expect(res.status).toBe(200);
    await h.until(async () => {
      const stats = (await h.api('GET', `/api/destinations/${dest}/mappings/stats`)).json.lastHour as Array<{ id: string; matched: number }>;
      return stats.find((s) => s.id === 'custom-event' && s.matched > 0) ? true : undefined;
    }, 'the custom event counted');
    const page = await admin.get(`/destinations/${dest}/mappings`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('No mappings are stored');
    const row = /<tr data-mapping="custom-event">[\s\S]*?<\/tr>/.exec(page.text)![0];
    expect(row).toContain('Custom events');
    expect(row).toMatch(/<span class="num">1 \/ 1<\/span>/);
    expect(row).toContain('aria-label="Last hour, Custom events: 1 Sailthru calls"');
    expect(row).toContain('action="/destinations/' + dest + '/mappings/custom-event/toggle"');
  });

  it('adds a mapping through the form; errors show at their field and nothing is saved', async () => {
    const bad = await admin.post(`/destinations/${dest}/mappings/new`, {
      _csrf: csrf,
      name: 'Big orders',
      enabled: 'on',
      types: 'track',
      eventMatch: 'equals',
      eventNames: 'Order Completed',
      'cond-path-0': 'properties.total',
      'cond-op-0': '>',
      'cond-value-0': 'lots',
      action: 'custom-event',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Not saved: one problem');
    expect(bad.text).toMatch(/id="m-cond-path-0"[^>]*aria-describedby="m-cond-0-error"[^>]*aria-invalid="true"/);
    expect(fieldError(bad, 'm-cond-0')).toContain('compares numbers: give a number');
    expect(bad.text).toContain('value="Big orders"');
    expect(await ids()).not.toContain('big-orders');

    const ok = await admin.post(`/destinations/${dest}/mappings/new`, {
      _csrf: csrf,
      name: 'Big orders',
      enabled: 'on',
      types: 'track',
      eventMatch: 'equals',
      eventNames: 'Order Completed',
      'cond-path-0': 'properties.total',
      'cond-op-0': '>',
      'cond-value-0': '100',
      action: 'custom-event',
      'field-custom-event.eventName-choice': 'fixed',
      'field-custom-event.eventName-text': 'Big Order',
      'field-custom-event.vars-choice': 'deny',
      'field-custom-event.vars-text': 'email, phone',
    });
    expect(ok.status).toBe(303);
    const stored = ((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings as Array<Record<string, unknown>>).at(-1)!;
    expect(stored).toEqual({
      id: 'big-orders',
      name: 'Big orders',
      enabled: true,
      trigger: { types: ['track'], event: { equals: 'Order Completed' }, conditions: [{ path: 'properties.total', op: '>', value: 100 }] },
      action: 'custom-event',
      fields: { eventName: { fixed: 'Big Order' }, vars: { deny: ['email', 'phone'] } },
    });
    const audit = (await h.api('GET', '/api/audit?action=mappings.update')).json.entries as Array<{ actor: string; channel: string }>;
    expect(audit[0]).toMatchObject({ actor: 'admin', channel: 'console' });
  });

  it('moves, disables and deletes (after a confirmation)', async () => {
    const before = await ids();
    expect((await admin.post(`/destinations/${dest}/mappings/big-orders/move`, { _csrf: csrf, direction: 'up' })).status).toBe(303);
    const moved = await ids();
    expect(moved.indexOf('big-orders')).toBe(before.indexOf('big-orders') - 1);
    expect((await admin.post(`/destinations/${dest}/mappings/big-orders/toggle`, { _csrf: csrf })).status).toBe(303);
    const list = (await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings as Array<{ id: string; enabled: boolean }>;
    expect(list.find((m) => m.id === 'big-orders')!.enabled).toBe(false);
    const page = await admin.get(`/destinations/${dest}/mappings`);
    expect(/<tr data-mapping="big-orders">[\s\S]*?<\/tr>/.exec(page.text)![0]).toContain('>Enable</button>');

    const confirm = await admin.post(`/destinations/${dest}/mappings/big-orders/delete`, { _csrf: csrf });
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Delete mapping #');
    expect(await ids()).toContain('big-orders');
    expect((await admin.post(`/destinations/${dest}/mappings/big-orders/delete`, { _csrf: csrf, confirmed: 'yes' })).status).toBe(303);
    expect(await ids()).not.toContain('big-orders');
  });

  it('tests a pasted event and a logged one without sending anything', async () => {
    const seqBefore = h.emulator.lastRequestSeq;
    const pasted = await admin.post(`/destinations/${dest}/mappings/test`, {
      _csrf: csrf,
      event: JSON.stringify({ type: 'track', userId: 'tester-1', event: 'Order Completed', properties: { email: 't@example.com', order_id: 'o-1', products: [{ id: 'p', price: 5, quantity: 1, url: 'https://shop.example/p' }] } }),
    });
    expect(pasted.status).toBe(200);
    expect(pasted.text).toContain('data-matched="order-completed"');
    expect(pasted.text).toContain('<code>POST /purchase</code>');
    expect(h.emulator.lastRequestSeq).toBe(seqBefore);

    const notJson = await admin.post(`/destinations/${dest}/mappings/test`, { _csrf: csrf, event: '{nope' });
    expect(notJson.status).toBe(400);
    expect(notJson.text).toContain('The event is not valid JSON');

    const logged = ((await h.api('GET', '/api/events?userId=cost-user')).json.events as Array<{ id: number }>)[0]!;
    const detail = await admin.get(`/events/${logged.id}`);
    expect(detail.text).toContain(`href="/destinations/${dest}/mappings/test?event=${logged.id}#result-h"`);
    const fromLog = await admin.get(`/destinations/${dest}/mappings/test?event=${logged.id}`);
    expect(fromLog.status).toBe(200);
    expect(fromLog.text).toContain(`Result for event #${logged.id}`);
    expect(fromLog.text).toContain('data-matched="custom-event"');
    expect(fromLog.text).toContain('<code>POST /event</code>');
    expect(fromLog.text).toContain(`href="/events/${logged.id}"`);
  });

  it('a viewer sees the list and the tester without forms and is refused a change; a post without the CSRF token changes nothing', async () => {
    const victor = new ConsoleClient(h.url);
    await victor.signIn(VICTOR);
    const list = await victor.get(`/destinations/${dest}/mappings`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('Custom events');
    expect(list.text.split('<main')[1]).not.toMatch(/<form[^>]*method="post"/);
    expect(list.text).not.toContain('Add a mapping');
    const tester = await victor.get(`/destinations/${dest}/mappings/test`);
    expect(tester.text.split('<main')[1]).not.toMatch(/<form[^>]*method="post"/);
    const refused = await victor.post(`/destinations/${dest}/mappings/custom-event/toggle`, { _csrf: ConsoleClient.csrfOf(list) });
    expect(refused.status).toBe(403);

    const before = JSON.stringify((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings);
    const forged = await admin.post(`/destinations/${dest}/mappings/custom-event/toggle`, { _csrf: 'not-the-token' });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('Form refused');
    expect(JSON.stringify((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings)).toBe(before);
  });

  it('two operators editing at once: the later save is refused with the edit kept, a stale list button changes nothing', async () => {
    const bob = new ConsoleClient(h.url);
    await bob.signIn(BOB);
    const revisionOf = (page: PageAnswer): string => /<input type="hidden" name="revision" value="([^"]*)">/.exec(page.text)?.[1] ?? '';
    const formOf = (page: PageAnswer, name: string): Record<string, string> => ({
      _csrf: ConsoleClient.csrfOf(page),
      revision: revisionOf(page),
      name,
      enabled: 'on',
      types: 'track',
      eventMatch: 'any',
      eventNames: '',
      action: 'custom-event',
    });
    const path = `/destinations/${dest}/mappings/custom-event`;
    const aliceForm = await admin.get(path);
    const bobForm = await bob.get(path);
    expect(revisionOf(bobForm)).toMatch(/^[0-9a-f]{16}$/);
    const bobList = await bob.get(`/destinations/${dest}/mappings`);

    expect((await admin.post(path, formOf(aliceForm, 'Alice named it'))).status).toBe(303);
    const refused = await bob.post(path, formOf(bobForm, 'Bob <b>named</b> it'));
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('were changed by someone else since you read them');
    // Bob's edit is kept (escaped) and the form now carries the current revision.
    expect(refused.text).toContain('value="Bob &lt;b&gt;named&lt;/b&gt; it"');
    const current = (await h.api('GET', `/api/destinations/${dest}/mappings`)).json;
    expect((current.mappings as Array<{ id: string; name: string }>).find((m) => m.id === 'custom-event')?.name).toBe('Alice named it');
    expect(revisionOf(refused)).toBe(current.revision);
    // Saving again is knowingly over Alice's change.
    expect((await bob.post(path, { ...formOf(refused, 'Bob named it') })).status).toBe(303);
    expect(((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings as Array<{ id: string; name: string }>).find((m) => m.id === 'custom-event')?.name).toBe('Bob named it');

    // A button on Bob's list page from before both saves: refused, said, nothing toggled.
    const before = JSON.stringify((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings);
    const toggle = await bob.post(`${path}/toggle`, { _csrf: ConsoleClient.csrfOf(bobList), revision: /name="revision" value="([^"]*)"/.exec(bobList.text)![1]! });
    expect(toggle.status).toBe(303);
    expect(JSON.stringify((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings)).toBe(before);
    expect((await bob.get(`/destinations/${dest}/mappings`)).text).toContain('were changed by someone else since you read them');
  });
});
