import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitForDrain, type Stack } from './harness.ts';
import { htmlPage, moduleFile, openBrowser, startSite, type BrowserSession, type Site } from './browser-page.ts';

/**
 * `@segment/analytics-next` (analytics.js 2.0), the real library in Chromium, on a page served from
 * another origin than the server, pointed at it as docs/clients.md says: `cdnSettings` inline (so
 * it never fetches Segment's CDN) and `integrations['Segment.io'].apiHost`. Standard mode posts each
 * event to `/v1/t`, `/v1/i`, `/v1/p`… as text/plain with Basic auth (a CORS preflight); batching
 * mode posts `/v1/b`. Checked on the emulator's resulting state.
 */

let stack: Stack;
let site: Site;
let session: BrowserSession;
let serverOrigin: string;

beforeAll(async () => {
  stack = await startStack({ env: { RETRY_BASE_MS: '50' } });
  serverOrigin = stack.service.url.replace(/\/$/, '');
  site = await startSite([
    moduleFile('/analytics-next.js', '@segment/analytics-next/dist/umd/index.js'),
    htmlPage('/shop.html', '<h1>Shop</h1>'),
  ]);
  session = await openBrowser([site.origin, serverOrigin], serverOrigin);
}, 60_000);

afterAll(async () => {
  await session?.close();
  await site?.close();
  await stack?.stop();
});

/** Loads analytics-next on the shop page with our server as its API host, and runs `script`. */
async function runOnPage(mode: 'standard' | 'batching', script: string): Promise<unknown> {
  const { page } = session;
  await page.goto(`${site.origin}/shop.html`);
  await page.addScriptTag({ url: `${site.origin}/analytics-next.js` });
  const apiHost = `${new URL(serverOrigin).host}/v1`;
  const segmentIo: Record<string, unknown> = { apiKey: stack.writeKey, apiHost, protocol: 'http' };
  if (mode === 'batching') segmentIo.deliveryStrategy = { strategy: 'batching', config: { size: 3, timeout: 200 } };
  return page.evaluate(
    async ({ writeKey, segmentIo, script }) => {
      const w = window as unknown as { AnalyticsNext: { AnalyticsBrowser: { load: (...args: unknown[]) => Promise<[unknown]> } } };
      const [analytics] = await w.AnalyticsNext.AnalyticsBrowser.load(
        { writeKey, cdnSettings: { integrations: { 'Segment.io': segmentIo } } },
        { integrations: { 'Segment.io': { apiHost: segmentIo.apiHost, protocol: 'http' } } },
      );
      const run = new Function('analytics', `return (async () => { ${script} })()`) as (a: unknown) => Promise<unknown>;
      return run(analytics);
    },
    { writeKey: stack.writeKey, segmentIo, script },
  );
}

const profile = (extid: string) => stack.emulator.state().profiles.find((p) => p.keys.extid === extid);

describe('@segment/analytics-next in Chromium, page on another origin', () => {
  it('standard mode: identify, track and page reach Sailthru through /v1/i, /v1/t, /v1/p', async () => {
    await runOnPage(
      'standard',
      `await analytics.identify('browser-user-1', { email: 'web@example.com', plan: 'pro' });
       await analytics.track('Viewed Product', { sku: 'sku-9', price: 12.5 });
       await analytics.page('Shop', { url: 'https://shop.example.com/p/9' });`,
    );
    await waitForDrain(stack.service);
    const user = profile('browser-user-1');
    expect(user?.keys.email).toBe('web@example.com');
    expect(user?.vars).toMatchObject({ plan: 'pro' });
    const state = stack.emulator.state();
    expect(state.events.filter((e) => e.id === 'browser-user-1').map((e) => [e.event, e.vars])).toEqual([
      ['Viewed Product', { sku: 'sku-9', price: 12.5 }],
    ]);
    expect(state.pageviews).toContainEqual(expect.objectContaining({ userIdValue: 'browser-user-1', url: 'https://shop.example.com/p/9' }));

    expect(await answersFromServer()).toEqual([
      ['POST /v1/i', 200],
      ['POST /v1/t', 200],
      ['POST /v1/p', 200],
    ]);
    expect(session.external).toEqual([]);
    expect(session.errors).toEqual([]);
  });

  it('batching mode: events are posted to /v1/b in batches and reach Sailthru in order', async () => {
    session.toServer.length = 0;
    await runOnPage(
      'batching',
      `analytics.identify('browser-user-2', { email: 'batch@example.com', tier: 'gold' });
       for (let i = 1; i <= 4; i++) analytics.track('Step ' + i, { n: i });
       await new Promise((resolve) => setTimeout(resolve, 1500));`,
    );
    await waitForDrain(stack.service);
    expect(profile('browser-user-2')?.keys.email).toBe('batch@example.com');
    expect(profile('browser-user-2')?.vars).toMatchObject({ tier: 'gold' });
    expect(
      stack.emulator
        .state()
        .events.filter((e) => e.id === 'browser-user-2')
        .map((e) => e.event),
    ).toEqual(['Step 1', 'Step 2', 'Step 3', 'Step 4']);
    const answers = await answersFromServer();
    expect(answers.length).toBeGreaterThanOrEqual(2);
    expect(answers).toEqual(answers.map(() => ['POST /v1/b', 200]));
    const firstBody = JSON.parse(session.toServer[0]!.postData() ?? '{}') as { batch?: unknown[]; writeKey?: string };
    expect(firstBody.batch).toHaveLength(3);
    expect(session.external).toEqual([]);
    expect(session.errors).toEqual([]);
  });
});

/**
 * What the page got back from the server, per request. A response the page may not read (CORS
 * refused) fails in the browser and has no status here.
 */
async function answersFromServer(): Promise<Array<[string, number | null]>> {
  return Promise.all(
    session.toServer.map(async (r) => [`${r.method()} ${new URL(r.url()).pathname}`, (await r.response())?.status() ?? null] as [string, number | null]),
  );
}
