import { describe, expect, it } from 'vitest';
import { html, raw } from '../../src/server/console/html.ts';
import { safeNext } from '../../src/server/console/routes.ts';
import { SessionStore, sameToken } from '../../src/server/console/session.ts';
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
    for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', 'events', '/x\r\nSet-Cookie: a=b', undefined, 42]) {
      expect(safeNext(bad)).toBe('/');
    }
  });
});

describe('console sessions', () => {
  it('expire after the idle time, and activity keeps them alive', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, absoluteMs: 10_000, now: () => now });
    const s = store.create();
    now = 900;
    expect(store.get(s.id)).toBe(s);
    now = 1800;
    expect(store.get(s.id)).toBe(s);
    now = 2801;
    expect(store.get(s.id)).toBeNull();
  });

  it('expire after the absolute time whatever the activity, and are bounded in number', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, absoluteMs: 3000, maxSessions: 2, now: () => now });
    const s = store.create();
    for (now = 500; now <= 3000; now += 500) expect(store.get(s.id)).toBe(s);
    now = 3001;
    expect(store.get(s.id)).toBeNull();
    const a = store.create();
    const b = store.create();
    const c = store.create();
    expect([store.get(a.id), store.get(b.id), store.get(c.id)]).toEqual([null, b, c]);
  });

  it('have distinct random ids and CSRF tokens, compared in constant time', () => {
    const store = new SessionStore();
    const a = store.create();
    const b = store.create();
    expect(new Set([a.id, b.id, a.csrf, b.csrf]).size).toBe(4);
    expect(a.csrf.length).toBeGreaterThanOrEqual(40);
    expect(sameToken(a.csrf, a.csrf)).toBe(true);
    expect(sameToken(b.csrf, a.csrf)).toBe(false);
    expect(sameToken(undefined, a.csrf)).toBe(false);
    expect(sameToken('', a.csrf)).toBe(false);
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
