import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitForDrain, type Stack } from './harness.ts';
import { htmlPage, moduleFile, openBrowser, startSite, type BrowserSession, type Site } from './browser-page.ts';

/**
 * `@rudderstack/analytics-js` (v3), the real SDK in Chromium, on a page of another origin, with our
 * server as its data plane. Its source configuration, which it would otherwise fetch from
 * RudderStack's control plane, is served by the site itself (`configUrl`), so it never leaves this
 * machine. XHR mode posts JSON to `/v1/identify`, `/v1/track`… with Basic auth and an
 * `AnonymousId` header (a CORS preflight); beacon mode posts batches with `navigator.sendBeacon`
 * to `/beacon/v1/batch?writeKey=…` as text/plain. Checked on the emulator's resulting state.
 */

const SDK_PATH = '@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js';

let stack: Stack;
let site: Site;
let session: BrowserSession;
let serverOrigin: string;

/** What RudderStack's control plane answers for a source with no device-mode destination. */
function sourceConfig(writeKey: string): string {
  return JSON.stringify({
    isHosted: false,
    source: {
      id: 'test-source',
      name: 'shop',
      writeKey,
      enabled: true,
      workspaceId: 'test-workspace',
      config: { statsCollection: { errorReports: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
    },
  });
}

beforeAll(async () => {
  stack = await startStack({ env: { RETRY_BASE_MS: '50' } });
  serverOrigin = stack.service.url.replace(/\/$/, '');
  site = await startSite([
    moduleFile('/rudderstack.js', SDK_PATH),
    htmlPage('/shop.html', '<h1>Shop</h1>'),
    { path: '/sourceConfig/', body: sourceConfig(stack.writeKey), contentType: 'application/json' },
  ]);
  session = await openBrowser([site.origin, serverOrigin], serverOrigin);
}, 60_000);

afterAll(async () => {
  await session?.close();
  await site?.close();
  await stack?.stop();
});

/** Loads the SDK on the shop page, waits until it is ready, and runs `script` with it. */
async function runOnPage(options: Record<string, unknown>, script: string): Promise<void> {
  const { page } = session;
  await page.goto(`${site.origin}/shop.html`);
  await page.addScriptTag({ url: `${site.origin}/rudderstack.js` });
  await page.evaluate(
    async ({ writeKey, dataPlaneUrl, options, script }) => {
      const w = window as unknown as { rudderanalytics: { RudderAnalytics: new () => { load: (...args: unknown[]) => void; ready: (cb: () => void) => void } } };
      const analytics = new w.rudderanalytics.RudderAnalytics();
      await new Promise<void>((resolve) => {
        analytics.load(writeKey, dataPlaneUrl, { ...options, onLoaded: () => resolve() });
      });
      await new Promise<void>((resolve) => analytics.ready(resolve));
      const run = new Function('analytics', `return (async () => { ${script} })()`) as (a: unknown) => Promise<unknown>;
      await run(analytics);
    },
    { writeKey: stack.writeKey, dataPlaneUrl: serverOrigin, options: { configUrl: site.origin, ...options }, script },
  );
}

const profile = (extid: string) => stack.emulator.state().profiles.find((p) => p.keys.extid === extid);

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('@rudderstack/analytics-js in Chromium, page on another origin', () => {
  it('XHR: identify (traits in context.traits), track and page reach Sailthru', async () => {
    await runOnPage(
      {},
      `analytics.identify('rs-user-1', { email: 'rs@example.com', plan: 'team' });
       analytics.track('Opened App', { source: 'web' });
       analytics.page('Shop', 'Home', { url: 'https://shop.example.com/' });`,
    );
    await until(() => stack.emulator.state().pageviews.some((p) => p.userIdValue === 'rs-user-1'));
    await waitForDrain(stack.service);
    const user = profile('rs-user-1');
    expect(user?.keys.email).toBe('rs@example.com');
    // RudderStack sends identify traits only in context.traits (SPEC.md §2.1).
    expect(user?.vars).toMatchObject({ plan: 'team' });
    expect(stack.emulator.state().events.filter((e) => e.id === 'rs-user-1').map((e) => [e.event, e.vars])).toEqual([['Opened App', { source: 'web' }]]);
    expect(await answersFromServer()).toEqual([
      ['POST /v1/identify', 200],
      ['POST /v1/track', 200],
      ['POST /v1/page', 200],
    ]);
    expect(session.external).toEqual([]);
    expect(site.requested).toContain('/sourceConfig/');
  });

  it('beacon: batches posted with sendBeacon to /beacon/v1/batch?writeKey= reach Sailthru', async () => {
    session.toServer.length = 0;
    await runOnPage(
      { useBeacon: true, beaconQueueOptions: { flushQueueInterval: 200 } },
      `analytics.identify('rs-user-2', { email: 'beacon@example.com', plan: 'solo' });
       analytics.track('Added To Wishlist', { sku: 'w-1' });
       analytics.track('Shared', { via: 'mail' });`,
    );
    await until(() => stack.emulator.state().events.filter((e) => e.id === 'rs-user-2').length === 2);
    await waitForDrain(stack.service);
    expect(profile('rs-user-2')?.keys.email).toBe('beacon@example.com');
    expect(profile('rs-user-2')?.vars).toMatchObject({ plan: 'solo' });
    expect(stack.emulator.state().events.filter((e) => e.id === 'rs-user-2').map((e) => e.event)).toEqual(['Added To Wishlist', 'Shared']);
    const beacons = session.toServer.filter((r) => new URL(r.url()).pathname === '/beacon/v1/batch');
    expect(beacons.length).toBeGreaterThanOrEqual(1);
    expect(new URL(beacons[0]!.url()).searchParams.get('writeKey')).toBe(stack.writeKey);
    expect(session.toServer.filter((r) => !beacons.includes(r))).toEqual([]);
    expect(session.external).toEqual([]);
  });
});

/** What the page got back from the server, per request (none when CORS refused it). */
async function answersFromServer(): Promise<Array<[string, number | null]>> {
  return Promise.all(
    session.toServer.map(async (r) => [`${r.method()} ${new URL(r.url()).pathname}`, (await r.response())?.status() ?? null] as [string, number | null]),
  );
}
