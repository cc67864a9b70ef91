import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SHARED_SECRET, WRITE_KEY, startAdminHarness, type AdminHarness } from '../server/admin-fixtures.ts';

/**
 * The console in Debian's chromium: sign in, change a setting and see it in the next delivery,
 * send test events, find them in the delivery log, repair a dead letter, check CSRF, and make
 * sure no page ever carries a secret. Screenshots go to test-output/screenshots/.
 */

const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');
const USER = `browser-user-${process.pid}`;

let h: AdminHarness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every HTML and JSON body the browser received. */
const bodies: Array<{ url: string; text: string }> = [];
const consoleErrors: string[] = [];
let revealedKey = '';

async function shot(name: string, target: Page = page): Promise<void> {
  await target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

function watch(p: Page): void {
  p.on('response', async (response) => {
    const type = response.headers()['content-type'] ?? '';
    if (!/html|json/.test(type)) return;
    try {
      bodies.push({ url: response.url(), text: await response.text() });
    } catch {
      // Redirects have no body.
    }
  });
  p.on('console', (msg) => {
    // Error statuses of documents (a refused sign-in answers 401) are logged too: not script errors.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) consoleErrors.push(msg.text());
  });
  p.on('pageerror', (err) => consoleErrors.push(err.message));
}

async function sendFromTester(event: Record<string, unknown>): Promise<string> {
  await page.goto(`${h.url}/tester`);
  await page.fill('#event', JSON.stringify(event, null, 2));
  await page.click('button:has-text("Send event")');
  await page.waitForSelector('#result-h');
  return (await page.textContent('#result-h')) ?? '';
}

async function eventIdOnTesterPage(): Promise<string> {
  const href = await page.getAttribute('a:has-text("Open event #")', 'href');
  return href!.split('/').pop()!;
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  h = await startAdminHarness();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  watch(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

describe('console in a browser', () => {
  it('asks for the admin token, refuses a wrong one, and signs in', async () => {
    await page.goto(`${h.url}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.title()).toBe('Sign in · Sailthru destination');
    await shot('01-sign-in');
    await page.fill('#token', 'wrong-token');
    await page.click('button:has-text("Sign in")');
    expect(await page.textContent('#token-error')).toContain('not an admin token');
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('h1:has-text("Overview")');
    expect(new URL(page.url()).pathname).toBe('/');
  });

  it('is usable with the keyboard: the first Tab reaches the skip link', async () => {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    expect(await page.locator('main#main').count()).toBe(1);
    expect(await page.locator('nav[aria-label="Main"]').count()).toBe(1);
  });

  it('changes a setting, tests the connection, and the next delivery uses the new setting', async () => {
    await page.goto(`${h.url}/destinations`);
    await shot('03-settings-list');
    await page.click('a[href="/destinations/default"]');
    await page.fill('#f-defaultListName', 'Browser List');
    await page.fill('#f-reminderTime', 'whenever');
    await page.click('button:has-text("Save settings")');
    // A bad value is explained next to its field, and nothing is saved.
    expect(await page.textContent('#f-reminderTime-error')).toMatch(/Abandoned-cart reminder time must be a relative time/);
    expect(await page.getAttribute('#f-reminderTime', 'aria-invalid')).toBe('true');
    await page.fill('#f-reminderTime', '60 minutes');
    await page.click('button:has-text("Save settings")');
    await page.waitForSelector('.flash.ok:has-text("Settings saved")');
    expect(await page.inputValue('#f-defaultListName')).toBe('Browser List');
    expect(await page.inputValue('#f-sharedSecret')).toBe('');

    await page.click('button:has-text("Test connection")');
    await page.waitForSelector('.flash:has-text("Test connection")');
    expect(await page.textContent('.flash.ok')).toMatch(/accepted/);
    await shot('04-destination-settings');

    const since = h.emulator.lastRequestSeq;
    const heading = await sendFromTester({ type: 'identify', userId: USER, traits: { email: `${USER}@example.com`, plan: 'gold' } });
    expect(heading).toContain('delivered');
    const posted = h.emulator.requests({ since, path: '/user', method: 'POST' });
    expect(posted.map((r) => (r.payload as { lists?: unknown }).lists)).toEqual([{ 'Browser List': 1 }]);
  });

  it('sends a sample event from the tester and shows the Sailthru request and response', async () => {
    await page.goto(`${h.url}/tester`);
    await page.selectOption('#sample', 'track');
    // The picker's script fills the textarea with the chosen sample.
    expect(await page.inputValue('#event')).toContain('Video Watched');
    const since = h.emulator.lastRequestSeq;
    await page.click('button:has-text("Send event")');
    await page.waitForSelector('#result-h');
    expect(await page.textContent('#result-h')).toContain('delivered');
    expect(await page.textContent('main')).toContain('POST /event');
    expect(h.emulator.requests({ since, path: '/event' }).map((r) => (r.payload as { event: string }).event)).toEqual(['Video Watched']);
    await shot('07-event-tester');
  });

  it('finds the delivered event in the delivery log and opens it', async () => {
    await page.goto(`${h.url}/events`);
    await page.fill('#userId', USER);
    await page.click('button:has-text("Search")');
    await page.waitForSelector('table');
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('identify');
    await shot('05-event-delivery');
    await rows.first().locator('a').first().click();
    await page.waitForSelector('h2:has-text("Attempts and Sailthru calls")');
    expect(await page.textContent('main')).toContain('POST /user');
    expect(await page.textContent('main')).toContain('Browser List');
    await shot('06-event-detail');
  });

  it('makes a dead letter, then retries it once it can succeed', async () => {
    const removed = await sendFromTester({
      type: 'track',
      userId: USER,
      event: 'Product Removed',
      properties: { product_id: 'SKU-9', name: 'Mug', price: 5, url: 'https://shop.example.com/p/9' },
    });
    expect(removed).toContain('failed');
    expect(await page.textContent('main')).toContain('Nothing to remove');
    const deadId = await eventIdOnTesterPage();
    const added = await sendFromTester({
      type: 'track',
      userId: USER,
      event: 'Product Added',
      properties: { product_id: 'SKU-9', name: 'Mug', price: 5, quantity: 2, url: 'https://shop.example.com/p/9' },
    });
    expect(added).toContain('delivered');

    await page.goto(`${h.url}/dead-letters`);
    // The list of dead letters (the groups above also link a sample event).
    const row = page.locator('section[aria-labelledby="list-h"] tbody tr', { hasText: `#${deadId}` });
    expect(await row.count()).toBe(1);
    await shot('08-dead-letters');
    await row.locator('button:has-text("Retry")').click();
    await page.waitForSelector(`.flash.ok:has-text("Event #${deadId} is queued again")`);
    for (;;) {
      await page.goto(`${h.url}/events/${deadId}`);
      if ((await page.textContent('h1'))?.includes('delivered')) break;
      await page.waitForTimeout(100);
    }
    const cart = h.emulator.state({ key: 'extid', id: USER }).profiles[0]?.cart;
    expect(cart?.items.map((i) => [i.id, i.qty])).toEqual([['SKU-9', 1]]);
  });

  it('pauses a destination, shows why on the dead-letter page, and resumes it', async () => {
    await page.goto(`${h.url}/destinations/default`);
    await page.fill('#pause-reason', 'checking the account');
    await page.click('button:has-text("Pause delivery")');
    await page.waitForSelector('.flash.error:has-text("Delivery is paused")');
    await page.goto(`${h.url}/dead-letters`);
    expect(await page.textContent('#paused-h + ul')).toContain('checking the account');
    await page.click('button[aria-label="Resume Sailthru"]');
    await page.waitForSelector('.flash.ok:has-text("resumed")');
    expect((await h.service.store.getDestination('default'))?.paused).toBe(false);
  });

  it('creates a write key shown once, and revokes it', async () => {
    await page.goto(`${h.url}/destinations/default`);
    await page.fill('#key-label', 'browser source');
    await page.click('button:has-text("Create write key")');
    revealedKey = (await page.textContent('#new-key')) ?? '';
    expect(revealedKey.length).toBeGreaterThanOrEqual(20);
    await page.reload();
    expect(await page.locator('#new-key').count()).toBe(0);
    expect(await page.content()).not.toContain(revealedKey);
    await page.click('button[aria-label="Revoke write key browser source"]');
    // Asked first, naming the key (operators.browser.test.ts covers the confirmation itself).
    await page.click('button:has-text("Revoke “browser source”")');
    await page.waitForSelector('.flash.ok:has-text("revoked")');
  });

  it('adds a second destination (explaining what is missing first) and deletes it', async () => {
    await page.goto(`${h.url}/destinations`);
    await page.fill('#f-name', 'EU account');
    await page.fill('#f-id', 'eu');
    await page.fill('#f-cartExpiryHours', '-2');
    await page.click('button:has-text("Add destination")');
    expect(await page.textContent('#f-apiKey-error')).toMatch(/API key is required/);
    expect(await page.textContent('#f-sharedSecret-error')).toMatch(/Shared secret is required/);
    expect(await page.textContent('#f-cartExpiryHours-error')).toMatch(/Cart expiry \(hours\) must be a positive number/);
    expect(await page.inputValue('#f-name')).toBe('EU account');
    await shot('03b-settings-validation');
    await page.fill('#f-apiKey', 'eu-key');
    await page.fill('#f-sharedSecret', 'eu-secret-that-is-long');
    await page.fill('#f-cartExpiryHours', '48');
    await page.fill('#f-apiUrl', h.emulator.url);
    await page.click('button:has-text("Add destination")');
    await page.waitForSelector('h1:has-text("EU account")');
    expect(new URL(page.url()).pathname).toBe('/destinations/eu');
    expect(await page.content()).not.toContain('eu-secret-that-is-long');
    await page.goto(`${h.url}/destinations`);
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.goto(`${h.url}/destinations/eu`);
    await page.fill('#confirm', 'eu');
    await page.click('button:has-text("Delete destination")');
    await page.waitForSelector('.flash.ok:has-text("Destination eu deleted")');
    expect(await h.service.store.getDestination('eu')).toBeNull();
  });

  it('queues a user deletion from the delivery page', async () => {
    await page.goto(`${h.url}/events`);
    await page.fill('#del-user', USER);
    await page.click('button:has-text("Delete user")');
    await page.waitForSelector('.flash.ok:has-text("queued")');
    await h.until(async () => (h.emulator.state().deletedUsers.some((d) => d.keys.extid === USER) ? true : undefined), 'the profile to be deleted');
  });

  it('refuses a form POST without the CSRF token', async () => {
    const withoutToken = await page.request.post(`${h.url}/destinations/default/pause`, { form: { reason: 'forged' }, maxRedirects: 0 });
    expect(withoutToken.status()).toBe(403);
    expect(await withoutToken.text()).toContain('CSRF');
    const wrongToken = await page.request.post(`${h.url}/destinations/default/pause`, { form: { reason: 'forged', _csrf: 'guess' }, maxRedirects: 0 });
    expect(wrongToken.status()).toBe(403);
    expect((await h.service.store.getDestination('default'))?.paused).toBe(false);
    // The JSON API's changing routes do not take the cookie at all.
    const api = await page.request.post(`${h.url}/api/destinations/default/pause`, { data: { reason: 'forged' } });
    expect(api.status()).toBe(401);
  });

  it('refreshes the overview charts from /api/series without reloading', async () => {
    await page.goto(`${h.url}/`);
    expect(await page.locator('figure[data-chart] svg').count()).toBe(6);
    await page.waitForFunction(() => document.querySelector('[data-refreshed]')?.textContent?.startsWith('Updated'), undefined, { timeout: 25_000 });
    expect(await page.locator('figure[data-chart="throughput"] polyline').count()).toBeGreaterThan(0);
    await shot('02-overview');
  }, 40_000);

  it('shows requests the ingest refused, by code, on the overview', async () => {
    const refused = await fetch(`${h.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('not-a-key:').toString('base64')}`, 'user-agent': 'legacy-client/1.0' },
      body: JSON.stringify({ batch: [] }),
    });
    expect(refused.status).toBe(401);
    await page.goto(`${h.url}/`);
    const row = page.locator('table[data-refused-table] tr', { hasText: 'INGEST_UNKNOWN_WRITE_KEY' });
    await expect.poll(() => row.count()).toBe(1);
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('401');
    expect(text).toContain('Unknown write key');
    expect(text).toContain('/v1/batch');
    expect(text).toContain('legacy-client/1.0');
    expect(text).not.toContain('not-a-key');
  });

  it('fits a phone screen', async () => {
    const phone = await context.newPage();
    watch(phone);
    await phone.setViewportSize({ width: 375, height: 812 });
    await phone.goto(`${h.url}/`);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('09-overview-phone', phone);
    await phone.goto(`${h.url}/destinations/default`);
    await shot('10-settings-phone', phone);
    await phone.close();
  });

  it('signs out', async () => {
    await page.goto(`${h.url}/`);
    await page.click('button:has-text("Sign out")');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.goto(`${h.url}/events`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  });

  it('never put a secret in any page or answer, and raised no script or CSP error', () => {
    expect(bodies.length).toBeGreaterThan(20);
    for (const { url, text } of bodies) {
      for (const secret of [SHARED_SECRET, ADMIN_TOKEN, WRITE_KEY]) {
        expect(text.includes(secret), `${url} contains a secret`).toBe(false);
      }
    }
    // The new write key was in exactly one page: the one that showed it once.
    expect(bodies.filter((b) => b.text.includes(revealedKey)).length).toBe(1);
    expect(consoleErrors).toEqual([]);
  });
});
