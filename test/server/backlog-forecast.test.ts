import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient } from '../reliability/support/console-client.ts';
import { ADMIN_TOKEN, startAdminHarness, WRITE_KEY, type AdminHarness } from './admin-fixtures.ts';

// Issue 19 item 4, end to end: a paused destination with a known queue. POST /event is limited
// to 2/s, so 300 custom events need 150 s and 60 identifies (POST /user, 300/s) 0.2 s: the
// forecast is 150 s with POST /event as the bottleneck, over a 36 s warning horizon.
let h: AdminHarness;

beforeAll(async () => {
  h = await startAdminHarness({ env: { SAILTHRU_RATE_LIMITS: 'POST /event=2', BACKLOG_WARN_HORIZON_HOURS: '0.01' } });
  expect((await h.api('POST', '/api/destinations/default/pause', { reason: 'forecast test' })).status).toBe(200);
  const batch = [
    ...Array.from({ length: 300 }, (_, i) => ({ type: 'track', event: 'Song Played', userId: `u${i % 40}`, messageId: `t-${i}` })),
    ...Array.from({ length: 60 }, (_, i) => ({ type: 'identify', userId: `u${i % 40}`, traits: { plan: 'pro' }, messageId: `i-${i}` })),
  ];
  const res = await fetch(`${h.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await h?.stop();
});

describe('when the backlog clears', () => {
  it('/api gives the forecast of a paused destination from its queued mix and the limits', async () => {
    const { status, json } = await h.api('GET', '/api/destinations/default');
    expect(status).toBe(200);
    const forecast = (json.destination as { forecast: Record<string, unknown> }).forecast;
    expect(forecast).toMatchObject({ events: 360, clearSeconds: 150, bottleneck: 'POST /event', text: 'about 3 min at current limits', estimated: false, boundEventsPerSecond: 2.4 });
    expect(forecast.warning).toMatch(/about 3 min.*POST \/event.*36 min|longer than the/);
    const overview = await h.api('GET', '/api/overview');
    const listed = (overview.json.destinations as Array<{ id: string; forecast: { clearSeconds: number } }>).find((d) => d.id === 'default');
    expect(listed?.forecast.clearSeconds).toBe(150);
  });

  it('/metrics has the gauge and the over-horizon flag', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/^sailthru_destination_backlog_clear_seconds\{destination="default"\} 150$/m);
    expect(text).toMatch(/^sailthru_destination_backlog_clear_over_horizon\{destination="default"\} 1$/m);
  });

  it('the console overview shows it, with the warning', async () => {
    const browser = new ConsoleClient(h.url);
    expect((await browser.signIn(ADMIN_TOKEN)).status).toBe(303);
    const page = await browser.get('/');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/data-forecast="default">about 3 min at current limits/);
    expect(page.text).toMatch(/data-backlog-warning="default"/);
  });
});
