import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { html, raw } from '../../src/server/console/html.ts';
import { safeNext } from '../../src/server/console/routes.ts';
import { PreSessionTokens } from '../../src/server/console/pre-session.ts';
import { MemorySessionBackend, SessionStore, sameToken } from '../../src/server/console/session.ts';
import { problemsByField } from '../../src/server/console/destinations.ts';

describe('html template', () => {
  it('escapes every interpolated value unless it is already html', () => {
    const hostile = `<script>alert("x")</script>' onload=\`x\` &amp;`;
    const out = html`<p title="${hostile}">${hostile}${html`<b>${hostile}</b>`}${raw('<i>ok</i>')}</p>`.text;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#96;x&#96; &amp;amp;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#96;x&#96; &amp;amp;' +
        '<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#96;x&#96; &amp;amp;</b><i>ok</i></p>',
    );
  });

  it('joins arrays and renders nothing for null, undefined and false', () => {
    expect(html`<ul>${['a', '<b>'].map((x) => html`<li>${x}</li>`)}</ul>${null}${undefined}${false}${0}`.text).toBe('<ul><li>a</li><li>&lt;b&gt;</li></ul>0');
  });
});

describe('redirect targets after sign-in', () => {
  it('stay on this server', () => {
    expect(safeNext('/events?userId=a')).toBe('/events?userId=a');
    expect(safeNext('/events?userId=a%20b')).toBe('/events?userId=a%20b');
    const bad = ['https://evil.example', '//evil.example', '/\\evil.example', 'events', '/x\r\nSet-Cookie: a=b', undefined, 42];
    // Decoded forms: tab, backslash, slashes (also double-encoded), and spaces of any kind.
    bad.push('/\t/evil.example/x', '/%09/evil.example', '/%5Cevil.example', '/%2F%2Fevil.example', '/%252F%252Fevil.example', '/\u3000/x', '/%E0');
    for (const value of bad) {
      expect(safeNext(value), String(value)).toBe('/');
    }
  });
});

describe('console sessions', () => {
  /** One console request: the session is read, then written back as the console's onSend does. */
  const visit = async (store: SessionStore, id: string) => {
    const s = await store.get(id);
    if (s) await store.save(s);
    return s?.id ?? null;
  };

  it('expire after the idle time, and activity keeps them alive', async () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, absoluteMs: 10_000, now: () => now });
    const s = await store.create();
    now = 900;
    expect(await visit(store, s.id)).toBe(s.id);
    now = 1800;
    expect(await visit(store, s.id)).toBe(s.id);
    now = 2801;
    expect(await visit(store, s.id)).toBeNull();
  });

  it('expire after the absolute time whatever the activity, and are bounded in number', async () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, absoluteMs: 3000, maxSessions: 2, now: () => now });
    const s = await store.create();
    for (now = 500; now <= 3000; now += 500) expect(await visit(store, s.id)).toBe(s.id);
    now = 3001;
    expect(await visit(store, s.id)).toBeNull();
    const a = await store.create();
    const b = await store.create();
    const c = await store.create();
    expect([await visit(store, a.id), await visit(store, b.id), await visit(store, c.id)]).toEqual([null, b.id, c.id]);
  });

  it('have distinct random ids and CSRF tokens, compared in constant time', async () => {
    const store = new SessionStore();
    const a = await store.create();
    const b = await store.create();
    expect(new Set([a.id, b.id, a.csrf, b.csrf]).size).toBe(4);
    expect(a.csrf.length).toBeGreaterThanOrEqual(40);
    expect(sameToken(a.csrf, a.csrf)).toBe(true);
    expect(sameToken(b.csrf, a.csrf)).toBe(false);
    expect(sameToken(undefined, a.csrf)).toBe(false);
    expect(sameToken('', a.csrf)).toBe(false);
  });

  it('keep their state sealed at rest, readable only with the id the cookie holds', async () => {
    const backend = new MemorySessionBackend();
    const one = new SessionStore({ backend, secret: 'admin-token-1' });
    const s = await one.create();
    s.revealedKeys.push({ destinationId: 'd', key: 'wk_live_secret_value', label: 'web' });
    s.flash.push({ kind: 'ok', text: 'Saved' });
    await one.save(s);
    const record = (await backend.getSession(createHmac('sha256', 'admin-token-1').update(s.id).digest('hex')))!;
    expect(JSON.stringify(record)).not.toContain('wk_live_secret_value');
    expect(JSON.stringify(record)).not.toContain('Saved');
    expect(JSON.stringify(record)).not.toContain(s.id);
    // Another process on the same database, given the cookie: the same session, with its state.
    const other = await new SessionStore({ backend, secret: 'admin-token-1' }).get(s.id);
    expect(other).toMatchObject({ id: s.id, csrf: s.csrf, flash: [{ kind: 'ok', text: 'Saved' }], revealedKeys: [{ key: 'wk_live_secret_value' }] });
    // ADMIN_TOKEN changed (say, after it leaked): every session is gone.
    expect(await new SessionStore({ backend, secret: 'admin-token-2' }).get(s.id)).toBeNull();
  });

  it('merge the changes of two requests running at once: a new key is neither lost nor shown twice', async () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, now: () => now });
    const s = await store.create();
    const key = (destinationId: string, k: string) => ({ destinationId, key: k, label: 'web' });
    now = 500; // past the touch interval, so even a request that changed nothing writes

    // Tab B reads the session (a page with nothing to show) while tab A creates a key.
    const tabB = (await store.get(s.id))!;
    const tabA = (await store.get(s.id))!;
    tabA.revealedKeys.push(key('d1', 'wk-a'));
    tabA.flash.push({ kind: 'ok', text: 'Key created' });
    expect(await store.save(tabA)).toBe(true);
    expect(await store.save(tabB)).toBe(true);
    expect((await store.get(s.id))!.revealedKeys.map((k) => k.key)).toEqual(['wk-a']);

    // Two pages of d1 load at once: only one shows wk-a. Meanwhile a third tab creates a key for d2.
    const page1 = (await store.get(s.id))!;
    const page2 = (await store.get(s.id))!;
    const tabC = (await store.get(s.id))!;
    tabC.revealedKeys.push(key('d2', 'wk-c'));
    expect(await store.save(tabC)).toBe(true);
    const shown1 = await store.takeRevealedKeys(page1, 'd1');
    const shown2 = await store.takeRevealedKeys(page2, 'd1');
    expect([...shown1, ...shown2].map((k) => k.key)).toEqual(['wk-a']);
    // wk-c waits for d2's page, and is shown there once.
    const page3 = (await store.get(s.id))!;
    expect((await store.takeRevealedKeys(page3, 'd2')).map((k) => k.key)).toEqual(['wk-c']);
    expect(await store.takeRevealedKeys((await store.get(s.id))!, 'd2')).toEqual([]);
  });

  it('merge flash messages by message, so two identical ones are two', async () => {
    const store = new SessionStore();
    const s = await store.create();
    s.flash.push({ kind: 'ok', text: '0 dead letters queued again.' });
    await store.save(s);
    const shows = (await store.get(s.id))!;
    const adds = (await store.get(s.id))!;
    shows.flash.splice(0);
    adds.flash.push({ kind: 'ok', text: '0 dead letters queued again.' });
    await store.save(shows);
    await store.save(adds);
    expect((await store.get(s.id))!.flash.map((f) => f.text)).toEqual(['0 dead letters queued again.']);
  });

  it('say when the session is gone, so a new key can be shown at once instead', async () => {
    const store = new SessionStore();
    const s = await store.create();
    const tab = (await store.get(s.id))!;
    await store.destroy(s.id);
    tab.revealedKeys.push({ destinationId: 'd', key: 'wk-late', label: 'web' });
    expect(await store.save(tab)).toBe(false);
  });
});

describe('settings form problems', () => {
  it('are placed next to the field they name', () => {
    const { byField, other } = problemsByField(['reminderTime must be a relative time', 'apiKey is required (x)', 'settings must be an object']);
    expect(byField.get('reminderTime')).toEqual(['reminderTime must be a relative time']);
    expect(byField.get('apiKey')).toEqual(['apiKey is required (x)']);
    expect(other).toEqual(['settings must be an object']);
  });
});

describe('the sign-in form token (double submit)', () => {
  it('passes only when form and cookie carry the same token, signed here and not expired', () => {
    let now = 1_000;
    const tokens = new PreSessionTokens('secret-a', 60_000, () => now);
    const token = tokens.issue();
    expect(tokens.valid(token, token)).toBe(true);
    // Both missing (a cross-site post), one missing, or two that differ.
    expect(tokens.valid('', undefined)).toBe(false);
    expect(tokens.valid('', '')).toBe(false);
    expect(tokens.valid(token, undefined)).toBe(false);
    expect(tokens.valid(token, tokens.issue())).toBe(false);
    // A pair made up elsewhere (a cookie planted by a neighbouring site), or signed with another secret.
    expect(tokens.valid('9999999999999.abc.def', '9999999999999.abc.def')).toBe(false);
    const foreign = new PreSessionTokens('secret-b', 60_000, () => now).issue();
    expect(tokens.valid(foreign, foreign)).toBe(false);
    now += 60_000;
    expect(tokens.valid(token, token)).toBe(false);
  });
});
