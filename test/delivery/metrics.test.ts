import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeliveryMetrics } from '../../src/delivery/metrics.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { SETTINGS, batchOf, tempDir, trackEvent } from './helpers.ts';

describe('DeliveryMetrics', () => {
  it('counts received, rejected and duplicate events at ingest, and reads backlog gauges at scrape time', async () => {
    const tmp = tempDir('metrics-');
    const store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
    try {
      await store.createDestination({ id: 'd', name: 'D', settings: SETTINGS });
      const metrics = new DeliveryMetrics({ log: store });
      const sink = metrics.instrumentSink(store);
      const e = trackEvent('u1');
      await sink.append(
        batchOf('d', [e, trackEvent('u2')], {
          receivedAt: new Date(Date.now() - 90_000),
          rejected: [{ index: 2, messageId: 'x', reason: 'no id', payload: {} }],
        }),
      );
      await sink.append(batchOf('d', [e]));
      expect(await sink.backlog()).toBe(2);
      metrics.recordRateLimitWait({ account: 'a', method: 'POST', endpoint: '/event', waitedMs: 250 });

      const text = await metrics.registry.metrics();
      expect(text).toContain('sailthru_destination_events_received_total{destination="d"} 4');
      expect(text).toContain('sailthru_destination_events_rejected_total{destination="d"} 1');
      expect(text).toContain('sailthru_destination_events_duplicate_total{destination="d"} 1');
      expect(text).toContain('sailthru_destination_backlog_events{destination="d"} 2');
      expect(text).toContain('sailthru_destination_dead_letters{destination="d"} 0');
      const age = /sailthru_destination_oldest_pending_age_seconds\{destination="d"\} ([\d.]+)/.exec(text);
      expect(Number(age?.[1])).toBeGreaterThanOrEqual(90);
      expect(text).toContain('sailthru_destination_rate_limit_wait_seconds_count{method="POST",endpoint="/event"} 1');
      expect(text).toContain('sailthru_destination_rate_limit_wait_seconds_bucket{le="0.25",method="POST",endpoint="/event"} 1');
    } finally {
      await store.close();
      tmp.remove();
    }
  });
});
