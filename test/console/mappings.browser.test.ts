import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from '../e2e/browser-page.ts';
import { ADMIN_TOKEN, WRITE_KEY, startAdminHarness, type AdminHarness } from '../server/admin-fixtures.ts';

/**
 * The mappings pages in Debian's chromium (issue 21): a mapping made through the form, moved up,
 * disabled, and the tester on a pasted and on a logged event, at 1366 px and at 390 px (nothing
 * wider than the screen). Screenshots go to test-output/screenshots/mappings/.
 */

const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots', 'mappings');
let h: AdminHarness;
let browser: Browser;
let dest: string;
const errors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  h = await startAdminHarness();
  dest = ((await h.api('GET', '/api/destinations')).json.destinations as Array<{ id: string }>)[0]!.id;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

async function signedIn(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${h.url}/sign-in`);
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('h1:has-text("Overview")');
  return page;
}

/** Elements wider than the viewport, or reaching past its right edge. */
async function offScreen(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > w) out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${w}`);
    document.querySelectorAll('main *').forEach((el) => {
      const r = el.getBoundingClientRect();
      // A cards table's heading row is clipped to nothing (read by screen readers only).
      if (r.width > 0 && r.right > w + 1 && !el.closest('pre') && !el.closest('table.cards thead')) out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} right=${Math.round(r.right)}`);
    });
    return out.slice(0, 10);
  });
}

const order = async (): Promise<string[]> => ((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings as Array<{ id: string }>).map((m) => m.id);

describe.each([1366, 390])('mappings in a browser at %i px', (width) => {
  it('creates a mapping through the form, moves it up, disables it, and tests events', async () => {
    const page = await signedIn(width);
    const name = `Signups ${width}`;
    const id = `signups-${width}`;
    await page.goto(`${h.url}/destinations/${dest}`);
    await page.click('a:has-text("Mappings: which events reach Sailthru")');
    await page.waitForSelector('h1:has-text("Mappings")');
    await page.selectOption('#new-action', 'custom-event');
    await page.click('button:has-text("Start a new mapping")');
    await page.waitForSelector('h1:has-text("New mapping")');
    // Only the chosen action's fields show once the script runs.
    expect(await page.isVisible('[data-action-fields="purchase"]')).toBe(false);
    await page.fill('#m-name', name);
    await page.selectOption('#m-event-match', 'equals');
    await page.fill('#m-event-names', `Signed Up ${width}`);
    await page.fill('#m-cond-path-0', 'properties.plan');
    await page.selectOption('#m-cond-op-0', '=');
    await page.fill('#m-cond-value-0', 'pro');
    await page.selectOption('#m-f-custom-event-eventName-choice', 'fixed');
    await page.fill('#m-f-custom-event-eventName-text', 'Pro Signup');
    await page.selectOption('#m-f-custom-event-vars-choice', 'deny');
    await page.fill('#m-f-custom-event-vars-text', 'email');
    await page.screenshot({ path: join(SCREENSHOTS, `form-${width}.png`), fullPage: true });
    expect(await offScreen(page)).toEqual([]);
    await page.click('button:has-text("Add mapping")');
    await page.waitForSelector(`tr[data-mapping="${id}"]`);
    expect(await page.textContent('.flash.ok')).toContain(`Mapping "${name}" added`);
    const before = await order();
    await page.click(`button[aria-label="Move ${name} up"]`);
    await page.waitForSelector('.flash.ok:has-text("moved to")');
    expect((await order()).indexOf(id)).toBe(before.indexOf(id) - 1);
    await page.click(`button[aria-label="Disable ${name}"]`);
    await page.waitForSelector(`tr[data-mapping="${id}"] .badge:has-text("off")`);
    await page.screenshot({ path: join(SCREENSHOTS, `list-${width}.png`), fullPage: true });
    expect(await offScreen(page)).toEqual([]);

    // Tester, pasted: the disabled mapping is passed over; enabled again, it takes the event.
    await page.click(`button[aria-label="Enable ${name}"]`);
    await page.waitForSelector(`tr[data-mapping="${id}"] .badge:has-text("on")`);
    await page.click('a:has-text("Test an event against these mappings")');
    const event = { type: 'track', userId: `u-${width}`, event: `Signed Up ${width}`, properties: { plan: 'pro', email: `u${width}@example.com` } };
    await page.fill('#test-json', JSON.stringify(event));
    await page.click('button:has-text("Test against mappings")');
    await page.waitForSelector('[data-test-result]');
    expect(await page.getAttribute('[data-matched]', 'data-matched')).toBe(id);
    expect(await page.textContent('[data-test-result]')).toContain('POST /event');
    const payload = await page.textContent('[data-call="0"] pre');
    expect(payload).toContain('"Pro Signup"');
    // The deny-list keeps properties.email out of the call.
    expect(payload).not.toContain('@example.com');
    await page.screenshot({ path: join(SCREENSHOTS, `tester-pasted-${width}.png`), fullPage: true });
    expect(await offScreen(page)).toEqual([]);

    // Tester, logged: an event from the delivery log, from its own page.
    const res = await fetch(`${h.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
      body: JSON.stringify({ userId: `logged-${width}`, event: 'Something Else', properties: { email: `l${width}@example.com` } }),
    });
    expect(res.status).toBe(200);
    const logged = await h.until(async () => ((await h.api('GET', `/api/events?userId=logged-${width}`)).json.events as Array<{ id: number }>)[0], 'the logged event');
    await page.goto(`${h.url}/events/${logged.id}`);
    await page.click('a:has-text("Test against mappings")');
    await page.waitForSelector('[data-test-result]');
    expect(await page.textContent('#result-h')).toContain(`event #${logged.id}`);
    expect(await page.getAttribute('[data-matched]', 'data-matched')).toBe('custom-event');
    expect(await page.textContent('[data-test-result]')).toContain('POST /event');
    await page.screenshot({ path: join(SCREENSHOTS, `tester-logged-${width}.png`), fullPage: true });
    expect(await offScreen(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 120_000);
});

describe('two operators editing one mapping in Chromium', () => {
  it('the later save is refused with its edit kept; saving again applies it', async () => {
    const alice = await signedIn(1366);
    const bob = await signedIn(1366);
    const form = `${h.url}/destinations/${dest}/mappings/custom-event`;
    await alice.goto(form);
    await bob.goto(form);
    await alice.fill('#m-name', 'Custom events (Alice)');
    await alice.click('form.mapping-form button[type="submit"]');
    await alice.waitForSelector('.flash.ok:has-text("saved")');

    await bob.fill('#m-name', 'Custom events (Bob)');
    await bob.click('form.mapping-form button[type="submit"]');
    await bob.waitForSelector('.flash.error[role="alert"]');
    expect(await bob.textContent('.flash.error')).toContain('were changed by someone else since you read them');
    expect(await bob.inputValue('#m-name')).toBe('Custom events (Bob)');
    const names = async () => ((await h.api('GET', `/api/destinations/${dest}/mappings`)).json.mappings as Array<{ id: string; name: string }>).find((m) => m.id === 'custom-event')?.name;
    expect(await names()).toBe('Custom events (Alice)');
    await bob.screenshot({ path: join(SCREENSHOTS, 'form-conflict.png'), fullPage: true });

    await bob.click('form.mapping-form button[type="submit"]');
    await bob.waitForSelector('.flash.ok:has-text("saved")');
    expect(await names()).toBe('Custom events (Bob)');
    expect(errors).toEqual([]);
    await alice.context().close();
    await bob.context().close();
  }, 120_000);
});
