import { describe, expect, it } from 'vitest';
import { defaultMappings } from '../../src/destination/mappings/defaults.ts';
import { callsOfKind, callsOfKindMapped, describeDuration, forecastBacklog, scaleKinds, type Endpoint } from '../../src/delivery/backlog-forecast.ts';

// Sailthru's published limits (reference/sailthru-api.md §1.6), as the gate applies them.
const limits = (e: Endpoint): number => (e.method === 'POST' && e.path === '/user' ? 300 : e.method === 'GET' ? 300 : 40);

describe('backlog forecast arithmetic', () => {
  it('each kind needs the calls its mapping makes', () => {
    expect(callsOfKind('identify', null)).toEqual({ 'POST /user': 1 });
    expect(callsOfKind('track', 'Song Played')).toEqual({ 'POST /event': 1 });
    expect(callsOfKind('track', 'Order Completed')).toEqual({ 'POST /purchase': 1 });
    expect(callsOfKind('track', 'Product Added')).toEqual({ 'GET /user': 1, 'POST /purchase': 1 });
    expect(callsOfKind('page', 'Home')).toEqual({ 'POST /v1/track/event/pageview': 1 });
    expect(callsOfKind('screen', 'Home')).toEqual({});
    // SPEC.md's other kinds (callsOfKind is derived from the default mappings: pinned here).
    expect(callsOfKind('alias', null)).toEqual({ 'GET /user': 1, 'POST /user': 1 });
    expect(callsOfKind('delete', null)).toEqual({ 'DELETE /user': 1 });
    expect(callsOfKind('track', null)).toEqual({ 'POST /event': 1 });
    expect(callsOfKind('track', 'Order Refunded')).toEqual({ 'POST /return': 1 });
    expect(callsOfKind('track', 'Cart Viewed')).toEqual({ 'POST /purchase': 1 });
    expect(callsOfKind('track', 'Removed Product')).toEqual({ 'GET /user': 1, 'POST /purchase': 1 });
    expect(callsOfKind('track', 'User Deleted')).toEqual({ 'DELETE /user': 1 });
    expect(callsOfKind('group', null)).toEqual({});
  });

  it('the slowest endpoint sets the time: max over endpoints of calls / limit', () => {
    // 4,500 custom events at 40/s = 112.5 s; 2,500 identifies at 300/s = 8.3 s; 1,000 pages at 40/s = 25 s.
    const f = forecastBacklog(
      [
        { type: 'track', eventName: 'Song Played', count: 4500 },
        { type: 'identify', eventName: null, count: 2500 },
        { type: 'page', eventName: 'Home', count: 1000 },
      ],
      limits,
    );
    expect(f.events).toBe(8000);
    expect(f.bottleneck).toBe('POST /event');
    expect(f.seconds).toBeCloseTo(112.5, 9);
    // min over endpoints of limit / calls-per-event: 40 / (4500 / 8000) = 71.1 events/s.
    expect(f.boundEventsPerSecond).toBeCloseTo(8000 / 112.5, 9);
    expect(f.endpoints.map((e) => e.endpoint)).toEqual(['POST /event', 'POST /v1/track/event/pageview', 'POST /user']);
  });

  it('an endpoint needed by two kinds adds their calls; a lowered limit moves the bottleneck', () => {
    const kinds = [
      { type: 'track', eventName: 'Product Added', count: 600 },
      { type: 'track', eventName: 'Order Completed', count: 200 },
      { type: 'identify', eventName: null, count: 3000 },
    ];
    const f = forecastBacklog(kinds, limits);
    expect(f.endpoints.find((e) => e.endpoint === 'POST /purchase')!.calls).toBe(800);
    expect(f.bottleneck).toBe('POST /purchase');
    expect(f.seconds).toBeCloseTo(20, 9);
    const cut = forecastBacklog(kinds, (e) => (e.path === '/user' && e.method === 'POST' ? 100 : limits(e)));
    expect(cut.bottleneck).toBe('POST /user');
    expect(cut.seconds).toBeCloseTo(30, 9);
  });

  it('nothing queued, or only events that make no call, needs no time', () => {
    expect(forecastBacklog([], limits).seconds).toBe(0);
    const skipped = forecastBacklog([{ type: 'group', eventName: null, count: 5 }], limits);
    expect(skipped.seconds).toBe(0);
    expect(skipped.bottleneck).toBeNull();
  });

  it('a sample is scaled to the whole queue by its shares', () => {
    const scaled = scaleKinds(
      [
        { type: 'identify', eventName: null, count: 300 },
        { type: 'track', eventName: 'x', count: 700 },
      ],
      1_000_000,
    );
    expect(scaled.map((k) => k.count)).toEqual([300_000, 700_000]);
  });

  it('says the time in words', () => {
    expect(describeDuration(0)).toBe('nothing to send');
    expect(describeDuration(42)).toBe('under a minute');
    expect(describeDuration(4 * 60 + 10)).toBe('about 4 min');
    expect(describeDuration(3 * 3600 + 10 * 60)).toBe('about 3 h 10 min');
    expect(describeDuration(2 * 3600)).toBe('about 2 h');
    expect(describeDuration(Infinity)).toBe('never at current limits');
  });

  it('the explicit default mappings (what the migration stored) need the same calls as no mappings', () => {
    const kinds: Array<[string, string | null]> = [
      ['identify', null], ['alias', null], ['page', 'Home'], ['screen', 'Home'], ['group', null], ['delete', null],
      ['track', 'Song Played'], ['track', null], ['track', 'Order Completed'], ['track', 'Completed Order'], ['track', 'Order Refunded'],
      ['track', 'Cart Viewed'], ['track', 'Checkout Started'], ['track', 'Product Added'], ['track', 'Removed Product'], ['track', 'User Deleted'],
    ];
    for (const [type, name] of kinds) expect([type, name, callsOfKindMapped(defaultMappings(), type, name)]).toEqual([type, name, callsOfKind(type, name)]);
  });
});
