import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SHARED_SECRET, WRITE_KEY, startAdminHarness, type AdminHarness } from '../server/admin-fixtures.ts';

/**
 * Issue 17 in Debian's chromium: destructive actions ask first (with JavaScript off, too), a
 * dropped event stays in the log, the Activity page says who did what, and a viewer's token
 * reads but cannot act. Screenshots at 1366 and 390 px go to test-output/screenshots/.
 */

const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');
const ALICE = 'alice-console-token-0123456789abcdef';
const VICTOR = 'victor-console-viewer-token-fedcba98';
const WIDTHS = [1366, 390] as const;

let h: AdminHarness;
let browser: Browser;
const pages: Page[] = [];
const bodies: Array<{ url: string; text: string }> = [];

async function newPage(options: { width?: number; javaScript?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1366, height: 900 }, javaScriptEnabled: options.javaScript ?? true });
  const page = await context.newPage();
  page.on('response', async (response) => {
    if (!/html|json/.test(response.headers()['content-type'] ?? '')) return;
    try {
      bodies.push({ url: response.url(), text: await response.text() });
    } catch {
      // Redirects have no body.
    }
  });
  pages.push(page);
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${h.url}/sign-in`);
  await page.fill('#token', token);
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('h1:has-text("Overview")');
}

/**
 * The page at both widths (loaded from `path`, or as it stands: a confirmation is the answer to
 * a POST); at 390 px nothing may stick out sideways.
 */
async function shots(page: Page, path: string | null, name: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    if (path !== null) await page.goto(`${h.url}${path}`);
    await page.screenshot({ path: join(SCREENSHOTS, `17a-${name}-${width}.png`), fullPage: true });
    if (width === 390) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${path} at 390 px`).toBeLessThanOrEqual(0);
    }
  }
  await page.setViewportSize({ width: 1366, height: 900 });
}

async function deadLetters(userId: string, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await h.api('POST', '/api/test-events', { event: { type: 'track', userId, event: 'purchase' } });
    const event = res.json.event as { id: number; state: string };
    expect(event.state).toBe('failed');
    ids.push(event.id);
  }
  return ids;
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  h = await startAdminHarness({ env: { ADMIN_TOKENS: `alice:${ALICE},victor:viewer:${VICTOR}` } });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

describe('confirmations (JavaScript off: the confirmation is a page, not a dialog)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await newPage({ javaScript: false });
    await signIn(page, ALICE);
  });

  it('"Drop all matching" names how many, changes nothing until confirmed, and the dropped stay in the log', async () => {
    const ids = await deadLetters('confirm-many', 3);
    const other = await deadLetters('confirm-other', 1);
    await page.goto(`${h.url}/dead-letters?userId=confirm-many`);
    await page.click('button:has-text("Drop all matching")');
    await page.waitForSelector('h1:has-text("Drop 3 dead letters?")');
    expect(await page.textContent('#confirm-q')).toContain('Drop all 3 dead letters matching userId confirm-many?');
    await shots(page, null, 'confirm-drop-all');
    // A GET of the form's URL is not the confirmation: nothing was dropped by asking.
    for (const id of ids) expect((await h.service.store.getEvent(id))?.event.status).toBe('failed');

    await page.goto(`${h.url}/dead-letters?userId=confirm-many`);
    await page.click('button:has-text("Drop all matching")');
    await page.click('a:has-text("Cancel")');
    expect(new URL(page.url()).pathname).toBe('/dead-letters');
    for (const id of ids) expect((await h.service.store.getEvent(id))?.event.status).toBe('failed');

    await page.click('button:has-text("Drop all matching")');
    await page.click('button:has-text("Drop 3 dead letters")');
    await page.waitForSelector('.flash.ok:has-text("3 dead letters dropped")');
    for (const id of ids) expect((await h.service.store.getEvent(id))?.event).toMatchObject({ status: 'dropped', droppedBy: 'alice' });
    expect((await h.service.store.getEvent(other[0]!))?.event.status).toBe('failed');

    // /events/<id> still shows it: dropped, by whom, when.
    await page.goto(`${h.url}/events/${ids[0]}`);
    expect(await page.textContent('h1')).toContain('dropped');
    expect(await page.textContent('main')).toMatch(/Dropped\s*by alice at \d{4}-\d\d-\d\d/);
    await shots(page, `/events/${ids[0]}`, 'dropped-event');
  });

  it("a row's Drop names the event and asks first", async () => {
    const [id] = await deadLetters('confirm-one', 1);
    await page.goto(`${h.url}/dead-letters?userId=confirm-one`);
    await page.click(`button[aria-label="Drop event ${id}"]`);
    expect(await page.textContent('#confirm-q')).toContain(`Drop event #${id} (track “purchase”, user confirm-one)?`);
    expect((await h.service.store.getEvent(id!))?.event.status).toBe('failed');
    await page.click(`button:has-text("Drop event #${id}")`);
    await page.waitForSelector(`.flash.ok:has-text("Event #${id} dropped")`);
    expect((await h.service.store.getEvent(id!))?.event.status).toBe('dropped');
  });

  it('"Revoke write key" names the key and asks first', async () => {
    const created = await h.api('POST', '/api/destinations/default/write-keys', { label: 'mobile app' });
    const key = created.json.key as string;
    await page.goto(`${h.url}/destinations/default`);
    await page.click('button[aria-label="Revoke write key mobile app"]');
    expect(await page.textContent('#confirm-q')).toMatch(/Revoke write key “mobile app” of Sailthru \(default\), created \d{4}-\d\d-\d\d\?/);
    await shots(page, null, 'confirm-revoke');
    const ingest = (k: string) =>
      fetch(`${h.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${k}:`).toString('base64')}` },
        body: JSON.stringify({ userId: 'k', event: 'Key Check' }),
      });
    expect((await ingest(key)).status).toBe(200);
    await page.goto(`${h.url}/destinations/default`);
    await page.click('button[aria-label="Revoke write key mobile app"]');
    await page.click('button:has-text("Revoke “mobile app”")');
    await page.waitForSelector('.flash.ok:has-text("revoked")');
    expect((await ingest(key)).status).toBe(401);
  });
});

describe('the Activity page', () => {
  it('lists who did what, from where and through which channel, filtered by action', async () => {
    const page = await newPage();
    await signIn(page, ALICE);
    // One action through the API as the admin named "admin", one failed sign-in.
    await h.api('POST', '/api/destinations/default/pause', { reason: 'activity check' });
    await h.api('POST', '/api/destinations/default/resume');
    await h.api('GET', '/api/destinations', undefined, 'wrong-token-for-activity');
    await page.goto(`${h.url}/activity`);
    const row = (text: string) => page.locator('table.activity tbody tr', { hasText: text });
    expect(await row('dead-letters.drop').first().textContent()).toMatch(/alice[\s\S]*dead-letters\.drop[\s\S]*userId=confirm-many[\s\S]*3[\s\S]*console[\s\S]*127\.0\.0\.1/);
    expect(await row('write-key.revoke').first().textContent()).toContain('"mobile app" of default');
    expect(await row('destination.pause').first().textContent()).toMatch(/admin[\s\S]*activity check[\s\S]*api/);
    expect(await row('sign-in.failed').first().textContent()).toMatch(/unknown[\s\S]*wrong admin token/);
    await shots(page, '/activity', 'activity');

    await page.selectOption('#action', 'event.drop');
    await page.click('button:has-text("Filter")');
    const actions = await page.locator('table.activity tbody tr td[data-label="Action"]').allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['event.drop']));
  });
});

describe('a viewer', () => {
  it('reads every page, sees no action button, and a forged action is refused', async () => {
    const [dead] = await deadLetters('viewer-sees', 1);
    const page = await newPage();
    await signIn(page, VICTOR);
    expect(await page.textContent('header .who')).toBe('Signed in as victor (viewer: read only)');
    for (const path of ['/dead-letters', `/events/${dead}`, '/destinations/default', '/events', '/tester', '/activity']) {
      await page.goto(`${h.url}${path}`);
      expect(await page.locator('main button:visible').filter({ hasNotText: /^(Filter|Search|Load sample)$/ }).count(), path).toBe(0);
    }
    await shots(page, '/dead-letters', 'viewer-dead-letters');
    // Still signed out by its own button.
    expect(await page.locator('header button:has-text("Sign out")').isVisible()).toBe(true);

    // The form is still in the page (hidden): posted anyway, the server refuses it.
    await page.goto(`${h.url}/dead-letters`);
    const csrf = await page.getAttribute('input[name="_csrf"]', 'value');
    const forged = await page.request.post(`${h.url}/events/${dead}/drop`, { form: { _csrf: csrf!, confirmed: 'yes' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('viewer token');
    expect((await h.service.store.getEvent(dead!))?.event.status).toBe('failed');
  });
});

describe('secrets', () => {
  it('no page or answer carried a token or secret', () => {
    expect(bodies.length).toBeGreaterThan(20);
    for (const { url, text } of bodies) {
      for (const secret of [ALICE, VICTOR, ADMIN_TOKEN, SHARED_SECRET, WRITE_KEY]) expect(text.includes(secret), `${url} contains a secret`).toBe(false);
    }
  });
});
