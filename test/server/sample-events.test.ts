import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_EVENTS } from '../../src/server/sample-events.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { event, startHarness, type Harness } from '../destination/harness.ts';

/** Each sample of the console's event tester does in Sailthru what its note says, in the order they are listed. */
describe('the event tester\'s samples', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const EXPECTED: Record<string, { state: string; calls: string[] }> = {
    identify: { state: 'delivered', calls: ['POST /user'] },
    'identify-lists': { state: 'delivered', calls: ['POST /user'] },
    track: { state: 'delivered', calls: ['POST /event'] },
    page: { state: 'delivered', calls: ['POST /v1/track/event/pageview'] },
    'product-added': { state: 'delivered', calls: ['GET /user', 'POST /purchase'] },
    'product-removed': { state: 'delivered', calls: ['GET /user', 'POST /purchase'] },
    'cart-viewed': { state: 'delivered', calls: ['POST /purchase'] },
    'order-completed': { state: 'delivered', calls: ['POST /purchase'] },
    'order-completed-campaign': { state: 'delivered', calls: ['POST /purchase'] },
    'order-refunded': { state: 'delivered', calls: ['POST /return'] },
    delete: { state: 'delivered', calls: ['DELETE /user'] },
    'reserved-name': { state: 'failed', calls: [] },
  };

  it('offers one for each kind of event the destination maps, the new ones included', () => {
    expect(SAMPLE_EVENTS.map((s) => s.id)).toEqual(Object.keys(EXPECTED));
  });

  it('makes the calls each note names, and Sailthru ends up holding what they say', async () => {
    for (const sample of SAMPLE_EVENTS) {
      // The tester stores its events as the console's, so a deletion counts as signed (deletionFromEvents).
      const outcome = await h.destination.deliver(event({ ...(sample.event as Partial<SegmentEvent> & Pick<SegmentEvent, 'type'>), authenticatedBy: 'admin' }));
      const expected = EXPECTED[sample.id]!;
      expect(outcome.state, `${sample.id}: ${JSON.stringify(outcome)}`).toBe(expected.state);
      expect(outcome.calls.map((c) => `${c.method} ${c.endpoint}`), sample.id).toEqual(expected.calls);
      if (sample.id === 'identify-lists') {
        const profile = h.emulator.state({ key: 'extid', id: 'sample-user-1' }).profiles[0]!;
        expect(Object.keys(profile.lists)).toEqual(['Weekly']);
        expect(profile.optout_email).toBe('basic');
      }
    }
    const state = h.emulator.state();
    expect(state.purchases.map((p) => p.message_id)).toEqual([undefined, '12345.6789.a1b2c3d4']);
    expect(state.returns).toHaveLength(1);
  });
});
