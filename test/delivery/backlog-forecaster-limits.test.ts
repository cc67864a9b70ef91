import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BacklogForecaster } from '../../src/delivery/backlog-forecaster.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import type { EventStore } from '../../src/delivery/store.ts';
import type { Mapping } from '../../src/destination/mappings/schema.ts';
import { SETTINGS, batchOf, tempDir, trackEvent } from './helpers.ts';

/**
 * The forecast when a limit allows nothing (SAILTHRU_RATE_LIMITS "POST /event=0", or a header
 * correction to 0): it says "never", and no Infinity or NaN reaches the API's JSON or /metrics
 * (found by the hostile review: /metrics showed +Inf, the text read "never at current limits at
 * current limits"). Real SQLite store, real prom-client registry.
 */
let tmp: ReturnType<typeof tempDir>;
let store: EventStore;
beforeEach(async () => {
  tmp = tempDir('forecast-limits-');
  store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
  await store.createDestination({ id: 'main', name: 'Main', settings: SETTINGS });
});
afterEach(async () => {
  await store.close();
  tmp.remove();
});

const forecasterWith = (limit: (method: string, path: string) => number) =>
  new BacklogForecaster({ store, registry: { gateFor: () => ({ pointsPerSecond: limit }) }, warnHorizonSeconds: 3600 });

describe('backlog forecast at limits that allow nothing', () => {
  it('says never, with finite figures only, and /metrics carries no Infinity or NaN', async () => {
    await store.append(batchOf('main', [trackEvent('u1'), trackEvent('u2'), trackEvent('u3', { type: 'identify', event: undefined })]));
    for (const limit of [0, Number.NaN]) {
      const forecaster = forecasterWith((_m, path) => (path === '/event' ? limit : 300));
      const view = await forecaster.forecast({ id: 'main', settings: SETTINGS });
      expect(view).toMatchObject({ events: 3, clearSeconds: null, text: 'never at current limits (POST /event allows no calls)', bottleneck: 'POST /event' });
      expect(view.warning).toBe('The backlog never clears at current limits: POST /event allows no calls (its limit is 0)');
      expect(JSON.stringify(view)).not.toMatch(/null,"text":"about|Infinity|NaN/);
      for (const e of view.endpoints) expect(e.seconds === null || Number.isFinite(e.seconds)).toBe(true);

      const registry = new Registry();
      forecaster.registerGauges(registry);
      const text = await registry.metrics();
      expect(text).not.toMatch(/Inf|NaN/);
      expect(text).toContain('sailthru_destination_backlog_clear_over_horizon{destination="main"} 1');
    }
  });
});

describe('backlog forecast with configured mappings', () => {
  it('counts the calls of the mapping each queued kind takes: a dropped kind needs none, a remapped one its action', async () => {
    const mappings: Mapping[] = [
      { id: 'debug', name: 'Debug', enabled: true, trigger: { types: ['track'], event: { startsWith: 'Debug' } }, action: 'drop' },
      { id: 'off', name: 'Off', enabled: false, trigger: { types: ['track'] }, action: 'purchase' },
      { id: 'signup', name: 'Signup list', enabled: true, trigger: { types: ['track'], event: { equals: 'Signed Up' } }, action: 'list-subscribe', fields: { listName: { fixed: 'News' } } },
      { id: 'rest', name: 'Rest', enabled: true, trigger: { types: ['track'] }, action: 'custom-event' },
    ];
    await store.updateDestination('main', { mappings });
    const debug = Array.from({ length: 50 }, (_, i) => trackEvent(`d${i}`, { event: 'Debug Ping' }));
    await store.append(batchOf('main', [...debug, trackEvent('s1', { event: 'Signed Up' }), trackEvent('o1', { event: 'Song Played' }), trackEvent('i1', { type: 'identify', event: undefined })]));
    const forecaster = forecasterWith((method, path) => (method === 'POST' && path === '/user' ? 300 : 40));
    const destination = (await store.getDestination('main'))!;
    const view = await forecaster.forecast(destination);
    // 50 dropped, Signed Up → POST /user, Song Played → POST /event, identify: no mapping takes it.
    expect(view.events).toBe(53);
    expect(view.endpoints.map((e) => [e.endpoint, e.calls])).toEqual([
      ['POST /event', 1],
      ['POST /user', 1],
    ]);
    expect(view.bottleneck).toBe('POST /event');
  });
});
