import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SHARED_SECRET, WRITE_KEY, startAdminHarness, type AdminHarness } from '../server/admin-fixtures.ts';

/**
 * The operator views of issue 17 in Debian's chromium: the live page receiving events (filter,
 * pause), dead letters grouped by reason with retry and drop per group, chart ranges with axes
 * that fit and values on hover, and every page at 390 px with its tables as cards on screen.
 * Screenshots of each page at 1366 and 390 px go to test-output/screenshots/operator/.
 */

const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots', 'operator');
const RUN = `op-${process.pid}`;

let h: AdminHarness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const bodies: Array<{ url: string; text: string }> = [];
const scriptErrors: string[] = [];

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
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) scriptErrors.push(msg.text());
  });
  p.on('pageerror', (err) => scriptErrors.push(err.message));
}

async function shot(name: string, target: Page = page): Promise<void> {
  await target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Events through ingest, as a client sends them. */
async function ingest(events: Array<Record<string, unknown>>): Promise<void> {
  const res = await fetch(`${h.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
    body: JSON.stringify({ batch: events }),
  });
  expect(res.status).toBe(200);
}

async function eventsOf(userId: string): Promise<Array<Record<string, unknown>>> {
  return (await h.api('GET', `/api/events?userId=${encodeURIComponent(userId)}`)).json.events as Array<Record<string, unknown>>;
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  h = await startAdminHarness();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  page = await context.newPage();
  watch(page);
  await page.goto(`${h.url}/sign-in`);
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('h1:has-text("Overview")');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

describe('operator views in a browser', () => {
  it('shows events live as they arrive and as they are delivered, filters them, and pauses', async () => {
    await page.goto(`${h.url}/live`);
    await page.waitForFunction(() => document.querySelector('[data-live-status]')?.textContent?.startsWith('Live'));
    const user = `${RUN}-live`;
    await ingest([{ type: 'identify', userId: user, anonymousId: `${user}-anon`, traits: { email: `${user}@example.com` } }, { type: 'track', userId: user, event: 'Live Thing' }]);
    const rows = page.locator(`[data-live-rows] tr[data-user="${user}"]`);
    // Received, then each delivered.
    await page.locator(`[data-live-rows] tr[data-user="${user}"][data-state="delivered"][data-name="Live Thing"]`).waitFor();
    expect(await page.locator(`[data-live-rows] tr[data-user="${user}"][data-state="received"]`).count()).toBe(2);
    expect(await rows.first().textContent()).toContain('Live Thing');

    // Filters: by name prefix in any case, by anonymousId, by type.
    await page.fill('#live-name', 'live t');
    expect(await page.locator('[data-live-rows] tr:not([hidden])').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name')))).toEqual(['Live Thing', 'Live Thing']);
    await page.fill('#live-name', '');
    await page.fill('#live-user', `${user}-anon`);
    expect(await page.locator('[data-live-rows] tr:not([hidden])').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-type')))).toEqual(['identify', 'identify']);
    await page.fill('#live-user', '');
    await page.selectOption('#live-type', 'track');
    expect(await page.locator('[data-live-rows] tr:not([hidden])').evaluateAll((trs) => trs.every((tr) => tr.getAttribute('data-type') === 'track'))).toBe(true);
    await page.selectOption('#live-type', '');
    await shot('live-1366');

    // Paused: new events wait, counted; resumed: they appear.
    await page.click('button[data-live-pause]');
    expect(await page.getAttribute('button[data-live-pause]', 'aria-pressed')).toBe('true');
    const later = `${RUN}-paused`;
    await ingest([{ type: 'track', userId: later, event: 'While Paused', context: { traits: { email: `${later}@example.com` } } }]);
    await page.waitForFunction(() => /Paused: [1-9]/.test(document.querySelector('[data-live-status]')?.textContent ?? ''));
    expect(await page.locator(`[data-live-rows] tr[data-user="${later}"]`).count()).toBe(0);
    await page.click('button[data-live-pause]');
    expect(await page.locator(`[data-live-rows] tr[data-user="${later}"]`).count()).toBeGreaterThan(0);
  });

  it('labels tester events as tests, live and in the delivery log', async () => {
    await page.goto(`${h.url}/tester?sample=order-completed`);
    // A fresh setup: the purchase sample carries its email, no identify needed first.
    await page.click('button:has-text("Send event")');
    await page.waitForSelector('#result-h');
    expect(await page.textContent('#result-h')).toContain('delivered');
    const id = (await page.getAttribute('a:has-text("Open event #")', 'href'))!.split('/').pop()!;
    await page.goto(`${h.url}/events/${id}`);
    expect(await page.textContent('h1')).toContain('test');
    await page.goto(`${h.url}/live`);
    await page.locator(`[data-live-rows] a[href="/events/${id}"]`).first().waitFor();
    const row = page.locator('[data-live-rows] tr', { has: page.locator(`a[href="/events/${id}"]`) }).first();
    expect(await row.locator('.badge.test').count()).toBe(1);
  });

  it('groups dead letters by normalised reason, filters by one, retries one group and drops another after confirming', async () => {
    const users = [1, 2, 3].map((i) => `${RUN}-cart-${i}`);
    // No email known for these users: one reason per user, one group.
    await ingest(users.map((u) => ({ type: 'track', userId: u, event: 'Product Added', properties: { product_id: 'SKU-1', name: 'Mug', price: 5, quantity: 1, url: 'https://shop.example.com/p/1' } })));
    await ingest(['purchase', 'send'].map((name, i) => ({ type: 'track', userId: `${RUN}-reserved-${i}`, event: name })));
    await h.until(async () => {
      const failed = (await h.api('GET', '/api/events?state=failed&limit=100')).json.events as unknown[];
      return failed.length >= 5 ? true : undefined;
    }, 'five dead letters');

    await page.goto(`${h.url}/dead-letters`);
    const groups = page.locator('[data-failure-groups] tbody tr');
    const noEmail = groups.filter({ hasText: 'Sailthru has no email for extid <id>' });
    const reserved = groups.filter({ hasText: 'Sailthru rejects the event name "…"' });
    expect(await noEmail.locator('td[data-label="Events"]').textContent()).toBe('3');
    expect(await reserved.locator('td[data-label="Events"]').textContent()).toBe('2');
    await shot('dead-letters-1366');

    await noEmail.locator('td[data-label="Reason"] a').click();
    await page.waitForSelector('tr.current');
    expect(await page.locator('section[aria-labelledby="list-h"] tbody tr').count()).toBe(3);
    expect(await page.locator('button:has-text("Drop all matching")').count()).toBe(0);

    // The users get emails; the group's retry delivers all three.
    await ingest(users.map((u) => ({ type: 'identify', userId: u, traits: { email: `${u}@example.com` } })));
    await page.goto(`${h.url}/dead-letters`);
    await noEmail.locator('button:has-text("Retry 3")').click();
    await page.waitForSelector('.flash.ok:has-text("3 dead letters with reason")');
    for (const u of users) {
      await h.until(async () => ((await eventsOf(u)).every((e) => e.state === 'delivered') ? true : undefined), `${u} delivered`);
    }

    // Drop asks first, naming how many.
    await reserved.locator('button:has-text("Drop 2")').click();
    await page.waitForSelector('h1:has-text("Drop 2 dead letters?")');
    await shot('dead-letters-confirm-1366');
    await page.click('main button:has-text("Drop 2")');
    await page.waitForSelector('.flash.ok:has-text("2 dead letters with reason")');
    expect(await page.locator('[data-failure-groups] tbody tr', { hasText: 'rejects the event name' }).count()).toBe(0);
    const groupsApi = (await h.api('GET', '/api/deadletters/groups')).json.groups as Array<{ key: string }>;
    expect(groupsApi.some((g) => g.key.includes('rejects the event name'))).toBe(false);
  });

  it('charts the last hour, 24 hours and 7 days with axes that fit, whole counts and values on hover', async () => {
    for (const [range, heading] of [
      ['24h', 'Last 24 hours'],
      ['7d', 'Last 7 days'],
      ['1h', 'Last hour'],
    ] as const) {
      await page.goto(`${h.url}/`);
      await page.click(`nav[aria-label="Chart range"] a[href="/?range=${range}"]`);
      await page.waitForSelector(`h2:has-text("${heading}")`);
      expect(await page.getAttribute(`nav[aria-label="Chart range"] a[href="/?range=${range}"]`, 'aria-current')).toBe('true');
      expect(await page.locator('figure[data-chart] polyline').count()).toBeGreaterThan(0);
      // Every axis label lies inside its chart: none is cut at the left edge.
      const outside = await page.locator('figure[data-chart] svg text[data-axis]').evaluateAll((texts) =>
        texts.filter((t) => {
          const box = (t as SVGTextElement).getBBox();
          return box.x < 0 || box.x + box.width > 400.5;
        }).length,
      );
      expect(outside).toBe(0);
      const countLabels = await page.locator('figure[data-chart="outcomes"] text[data-axis="y"]').allTextContents();
      expect(countLabels.every((l) => /^\d[\d,]*$/.test(l)), countLabels.join(' | ')).toBe(true);
      const latencyLabels = await page.locator('figure[data-chart="latency"] text[data-axis="y"]').allTextContents();
      expect(latencyLabels.every((l) => /^\d+(\.\d+)? (ms|s|min)$/.test(l)), latencyLabels.join(' | ')).toBe(true);
      await shot(`overview-${range}-1366`);
    }
    // Hover: the stretch under the pointer says its time and values.
    const band = page.locator('figure[data-chart="throughput"] rect.hover').last();
    await band.hover();
    const tip = page.locator('figure[data-chart="throughput"] .chart-tip');
    await tip.waitFor();
    expect(await tip.textContent()).toMatch(/UTC · in \/s: .* · delivered \/s: /);
    // The tiles refresh with the charts.
    await page.waitForFunction(() => document.querySelector('[data-refreshed]')?.textContent?.startsWith('Updated'), undefined, { timeout: 25_000 });
    expect(await page.locator('[data-live-part="totals"] dd').count()).toBeGreaterThan(3);
  }, 60_000);

  it('reads at 390 px: no page wider than the screen, tables as cards, dead letters and their buttons on screen', async () => {
    const phone = await context.newPage();
    watch(phone);
    await phone.setViewportSize({ width: 390, height: 844 });
    const pages: Array<[string, string]> = [
      ['overview', '/'],
      ['live', '/live'],
      ['events', `/events?userId=${RUN}-cart-1`],
      ['dead-letters', '/dead-letters'],
      ['settings', '/destinations/default'],
      ['tester', '/tester'],
    ];
    // A dead letter for the cards to show.
    await ingest([{ type: 'track', userId: `${RUN}-phone`, event: 'purchase' }]);
    await h.until(async () => ((await eventsOf(`${RUN}-phone`))[0]?.state === 'failed' ? true : undefined), 'a dead letter');
    for (const [name, path] of pages) {
      await phone.goto(`${h.url}${path}`);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} is wider than the screen`).toBeLessThanOrEqual(0);
      await shot(`${name}-390`, phone);
    }
    await phone.goto(`${h.url}/dead-letters`);
    const card = phone.locator('section[aria-labelledby="list-h"] tbody tr').first();
    for (const target of [card.locator('td').nth(6), card.locator('button:has-text("Retry")'), card.locator('button:has-text("Drop")'), phone.locator('[data-failure-groups] tbody tr').first().locator('button').first()]) {
      const box = (await target.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    expect(await card.locator('td').nth(6).evaluate((td) => getComputedStyle(td, '::before').content)).toContain('Reason');
    await phone.close();

    for (const [name, path] of pages) {
      await page.goto(`${h.url}${path}`);
      await shot(`${name}-1366`);
    }
  }, 60_000);

  it('never put a secret in any page, stream or answer, and raised no script error', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const { url, text } of bodies) {
      for (const secret of [SHARED_SECRET, ADMIN_TOKEN, WRITE_KEY]) expect(text.includes(secret), `${url} contains a secret`).toBe(false);
    }
    expect(scriptErrors).toEqual([]);
  });
});
