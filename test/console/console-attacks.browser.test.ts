import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, WRITE_KEY, startAdminHarness, type AdminHarness } from '../server/admin-fixtures.ts';

/**
 * Issue 15, items 5 and 6, in Debian's chromium: crafted `next` and `back` values never take the
 * browser off the server's origin, and a page on another site posting the sign-in form cannot
 * lock the admin out.
 */

let h: AdminHarness;
let browser: Browser;

/** Values that would leave the origin if taken as they are, raw and percent-encoded. */
const CRAFTED = [
  '/\t/evil.example/x',
  '/%09/evil.example',
  '/\\evil.example',
  '/%5Cevil.example',
  '/%5C%5Cevil.example',
  '//evil.example',
  '/%2F/evil.example',
  '/%2F%2Fevil.example',
  '/%252F%252Fevil.example',
  'https://evil.example',
  'https:%2F%2Fevil.example',
  '/\n/evil.example',
  '/%0A/evil.example',
  '/ /evil.example',
  '/\u3000/evil.example',
  '/./\\evil.example',
  '\\\\evil.example',
  '/\r\n/evil.example',
  'javascript:alert(1)',
];

beforeAll(async () => {
  h = await startAdminHarness();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

/** A fresh browser context that records every URL it asks for and never reaches any other host. */
async function watchedContext(): Promise<{ context: BrowserContext; page: Page; elsewhere: string[] }> {
  const context = await browser.newContext();
  const origin = new URL(h.url).origin;
  const elsewhere: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    elsewhere.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && !frame.url().startsWith(origin) && frame.url() !== 'about:blank') elsewhere.push(frame.url());
  });
  return { context, page, elsewhere };
}

async function signIn(page: Page, next?: string): Promise<void> {
  await page.goto(`${h.url}/sign-in${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`);
  await page.fill('#token', ADMIN_TOKEN);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Sign in")')]);
}

describe('open redirects', () => {
  it('no crafted `next` leaves the origin, whether signing in or already signed in', async () => {
    const { context, page, elsewhere } = await watchedContext();
    for (const next of CRAFTED) {
      await context.clearCookies();
      await signIn(page, next);
      expect(new URL(page.url()).origin, next).toBe(new URL(h.url).origin);
      expect(new URL(page.url()).pathname, next).toBe('/');
      // Signed in: /sign-in redirects to `next` at once.
      await page.goto(`${h.url}/sign-in?next=${encodeURIComponent(next)}`);
      expect(new URL(page.url()).pathname, next).toBe('/');
    }
    expect(elsewhere).toEqual([]);
    // A plain path still works.
    await context.clearCookies();
    await signIn(page, '/events?userId=a%20b');
    expect(page.url()).toBe(`${h.url}/events?userId=a%20b`);
    await context.close();
  }, 120_000);

  it('no crafted `back` in a console form leaves the origin', async () => {
    const { context, page, elsewhere } = await watchedContext();
    await signIn(page);
    for (const back of CRAFTED) {
      await page.goto(`${h.url}/destinations/default`);
      const csrf = await page.getAttribute('input[name="_csrf"]', 'value');
      // The form a hostile page would want the admin to post, built in the console's own page.
      await Promise.all([
        page.waitForNavigation(),
        page.evaluate(
          ({ csrf, back }) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/destinations/default/resume';
            for (const [name, value] of Object.entries({ _csrf: csrf, back })) {
              const input = document.createElement('input');
              input.type = 'hidden';
              input.name = name;
              input.value = value;
              form.append(input);
            }
            document.body.append(form);
            form.submit();
          },
          { csrf: csrf ?? '', back },
        ),
      ]);
      expect(new URL(page.url()).origin, back).toBe(new URL(h.url).origin);
      expect(new URL(page.url()).pathname, back).toBe('/');
    }
    expect(elsewhere).toEqual([]);
    await context.close();
  }, 120_000);
});

describe('cross-site sign-in posts', () => {
  let attacker: Server;
  afterAll(() => new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve())));

  it('are refused as expired forms and do not count: the admin signs in afterwards', async () => {
    // The hostile page, on another site (localhost is not the same site as 127.0.0.1).
    const target = `${h.url}/sign-in`;
    attacker = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>cute cats</title>
<form id="f" method="post" action="${target}"><input name="token" value="guess"><input name="next" value="/"></form>
<script>
  window.posted = (async () => {
    for (let i = 0; i < 30; i++) {
      await fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
        body: new URLSearchParams({ token: 'guess-' + i, next: '/' }) });
    }
    return 30;
  })();
</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;

    const context = await browser.newContext();
    const page = await context.newPage();
    // The admin has the sign-in form open (its pre-session cookie is set) and visits the page.
    await page.goto(`${h.url}/sign-in`);
    await page.goto(attackerUrl);
    expect(await page.evaluate(() => (window as unknown as { posted: Promise<number> }).posted)).toBe(30);
    // The same post as a top-level form submission: it reaches the server and is refused.
    const [answer] = await Promise.all([page.waitForNavigation(), page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
    expect(answer?.status()).toBe(403);
    expect(await page.textContent('#token-error')).toContain('form expired');
    expect(await h.service.store.countSignInFailures('127.0.0.1', 0)).toBe(0);

    // The admin signs in at once, and the API still opens.
    await signIn(page);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.textContent('h1')).toContain('Overview');
    expect((await h.api('GET', '/api/destinations')).status).toBe(200);
    await context.close();
  }, 60_000);
});

describe('script injection across console pages', () => {
  const PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    '"><script>window.__xss=1</script>',
    "'><svg onload=window.__xss=1>",
    '</textarea><script>window.__xss=1</script>',
    'javascript:window.__xss=1',
  ];

  it('no page runs or renders markup from events, names, labels or query strings', async () => {
    // Hostile values wherever a value reaches a page: user ids, event names, properties, traits,
    // a destination's name, a write key's label.
    const events = PAYLOADS.map((p, i) => ({ type: 'track', userId: p, event: p, messageId: `xss-${i}`, properties: { note: p, [p]: p }, context: { page: { url: p } } }));
    const ingest = await fetch(`${h.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
      body: JSON.stringify({ batch: [...events, { type: 'identify', userId: 'xss-traits', traits: { name: PAYLOADS[0], email: 'x@example.com' } }] }),
    });
    expect(ingest.status).toBe(200);
    expect((await h.api('POST', '/api/destinations', { id: 'xss', name: PAYLOADS[2], settings: { apiKey: 'xss-key', sharedSecret: 'xss-shared-secret-1' } })).status).toBe(201);
    expect((await h.api('POST', '/api/destinations/default/write-keys', { label: PAYLOADS[1] })).status).toBe(201);
    const found = await h.api('GET', `/api/events?messageId=xss-0`);
    const eventId = ((found.json.events as Array<{ id: number }>)[0]!).id;

    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    const q = encodeURIComponent(PAYLOADS[1]!);
    const paths = ['/', '/destinations', '/destinations/default', '/destinations/xss', '/events', `/events?userId=${q}&event=${q}`, `/events/${eventId}`, `/dead-letters?userId=${q}`, '/tester', `/sign-in?next=${q}`];
    await signIn(page);
    for (const path of paths) {
      const response = await page.goto(`${h.url}${path}`);
      // No inline script may run, and no other site may frame a page (clickjacking).
      const headers = response!.headers();
      expect(headers['content-security-policy'], path).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
      expect(headers['x-frame-options'], path).toBe('DENY');
      const found = await page.evaluate(() => ({
        ran: (window as unknown as { __xss?: number }).__xss ?? null,
        handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${el.tagName}[${a.name}]`)),
        // Executable scripts only (the tester's samples are a JSON data block).
        scripts: [...document.querySelectorAll('script:not([type="application/json"])')].map((s) => s.getAttribute('src') ?? 'inline'),
        injected: document.querySelectorAll('img[src="x"]').length,
        javascriptLinks: [...document.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
      }));
      expect(found, path).toEqual({ ran: null, handlers: [], scripts: found.scripts.filter((s) => s === '/assets/console.js'), injected: 0, javascriptLinks: 0 });
      expect(found.scripts.every((s) => s === '/assets/console.js'), path).toBe(true);
    }
    // The values are shown, as text.
    await page.goto(`${h.url}/events/${eventId}`);
    expect(await page.textContent('main')).toContain('<img src=x onerror=');
    expect(dialogs).toEqual([]);
    await context.close();
  }, 120_000);
});
