import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryMetrics } from '../../src/delivery/metrics.ts';
import { openSqliteStore, type SqliteEventStore } from '../../src/delivery/sqlite-store.ts';
import { SeriesSampler } from '../../src/server/series-sampler.ts';
import { durationUnit, formatValue, niceTicks, yAxis } from '../../src/server/console/chart.ts';
import { tempDir } from '../delivery/helpers.ts';

/**
 * The charts' figures live in the store: two processes' samplers (two metric registries, one
 * database) read the same sums, and a sampler started after a restart still reads what the
 * earlier processes counted.
 */

const T0 = Date.parse('2026-03-01T12:00:03Z');
const noLimits = { gateFor: () => ({ pointsPerSecond: () => 40 }) } as unknown as ConstructorParameters<typeof SeriesSampler>[0]['registry'];

describe('SeriesSampler on the store', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function store(path: string): Promise<SqliteEventStore> {
    const s = await openSqliteStore({ path, writer: 'inline' });
    cleanups.push(() => s.close());
    return s;
  }

  function process(s: SqliteEventStore, clock: { t: number }, id: string) {
    const metrics = new DeliveryMetrics();
    const sampler = new SeriesSampler({ metrics: metrics.registry, store: s, registry: noLimits, now: () => clock.t, processId: id });
    return { metrics, sampler };
  }

  const received = (m: DeliveryMetrics, n: number) => m.recordAppend({ destination: 'd', received: n, rejected: 0 }, { stored: n, duplicates: 0 });

  it('sums every process, reads the same from each, and survives a restart', async () => {
    const tmp = tempDir('series-');
    cleanups.push(() => tmp.remove());
    const path = join(tmp.dir, 'events.db');
    const clock = { t: T0 };
    const s1 = await store(path);
    const a = process(s1, clock, 'a');
    const b = process(s1, clock, 'b');
    received(a.metrics, 3);
    received(b.metrics, 4);
    await a.sampler.sample();
    await b.sampler.sample();
    clock.t += 10_000;
    received(a.metrics, 5);
    await a.sampler.sample();
    clock.t += 1_000;

    const fromA = await a.sampler.series('1h');
    const fromB = await b.sampler.series('1h');
    expect(fromA.points).toEqual(fromB.points);
    expect(fromA.points.map((p) => p.eventsIn)).toEqual([7, 5]);
    expect(fromA.scope).toBe('store');
    // Coarser ranges hold the same events in fewer buckets.
    expect((await a.sampler.series('24h')).points.reduce((n, p) => n + p.eventsIn, 0)).toBe(12);
    expect((await b.sampler.series('7d')).points.reduce((n, p) => n + p.eventsIn, 0)).toBe(12);

    // A restart: the old processes stop, a new one opens the same database.
    await a.sampler.stop();
    await b.sampler.stop();
    await s1.close();
    cleanups.pop();
    const s2 = await store(path);
    const c = process(s2, clock, 'c');
    received(c.metrics, 1);
    await c.sampler.sample();
    const after = await c.sampler.series('1h');
    expect(after.points.reduce((n, p) => n + p.eventsIn, 0)).toBe(13);
    expect(after.points.map((p) => p.eventsIn)).toEqual([7, 6]);
  });

  it('answers an empty series before anything was counted elsewhere, and points for the buckets since', async () => {
    const tmp = tempDir('series-');
    cleanups.push(() => tmp.remove());
    const clock = { t: T0 };
    const s = await store(join(tmp.dir, 'e.db'));
    const p = process(s, clock, 'p');
    const series = await p.sampler.series('1h');
    expect(series.points).toHaveLength(1);
    expect(series.points[0]).toMatchObject({ eventsIn: 0, backlog: 0, deadLetters: 0 });
    clock.t += 35_000;
    const later = await p.sampler.series('1h');
    // 10 s buckets: the first, two the sampler did not write (no figures: gauges null), the current one.
    expect(later.points.map((x) => x.backlog)).toEqual([0, null, null, 0]);
  });
});

describe('chart axes', () => {
  it('puts a long latency in minutes, so 612 000 ms reads as minutes, not a cut-off number', () => {
    expect(durationUnit(612_000)).toEqual({ unit: 'min', perUnit: 60_000 });
    const axis = yAxis(612_000, 'duration');
    expect(axis.labels[axis.labels.length - 1]).toMatch(/^\d+(\.\d+)? min$/);
    expect(axis.ticks[axis.ticks.length - 1]! * axis.perUnit).toBeGreaterThanOrEqual(612_000);
    expect(yAxis(850, 'duration').labels).toContain('0 ms');
    expect(yAxis(45_000, 'duration').labels.every((l) => l.endsWith(' s'))).toBe(true);
    expect(formatValue(612_000, 'duration')).toBe('10.2 min');
    expect(formatValue(2_140, 'duration')).toBe('2.1 s');
  });

  it('counts whole numbers only, on the axis and in values', () => {
    expect(niceTicks(3, true)).toEqual([0, 1, 2, 3]);
    expect(yAxis(7, 'count').labels.every((l) => /^\d+$/.test(l))).toBe(true);
    expect(formatValue(2.6, 'count')).toBe('3');
    expect(formatValue(12_345, 'count')).toBe('12,345');
  });
});
