/**
 * The default-equivalence replay (issue 21): every event the destination suite (test/destination/
 * *.test.ts) delivers is recorded, with the settings and options of the destination it went to;
 * then each recorded destination is rebuilt twice, once with no mappings and once with the
 * default mappings as the migration stores them (JSON written and read back, validated), each
 * against its own emulator, and the recorded events are replayed through both in their order.
 * Outcomes and the requests Sailthru received must be identical, event by event.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Destination, DestinationOptions } from '../../src/destination/index.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';

interface Recorded {
  instance: number;
  event: SegmentEvent;
}
const recorded: Recorded[] = [];
const instances: Array<{ settings: DestinationSettings; opts: DestinationOptions }> = [];

vi.mock('../../src/destination/index.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/destination/index.ts')>();
  return {
    ...original,
    createDestination(settings: DestinationSettings, opts: DestinationOptions = {}): Destination {
      const built = original.createDestination(settings, opts);
      const instance = instances.push({ settings, opts }) - 1;
      return {
        client: built.client,
        close: () => built.close(),
        deliver(event: SegmentEvent) {
          // Copied before delivery: what the suite sent, whatever the destination does with it.
          if (opts.mappings === undefined) {
            try {
              recorded.push({ instance, event: structuredClone(event) });
            } catch {
              // An event built to throw when read (outcome.test.ts) cannot be replayed.
            }
          }
          return built.deliver(event);
        },
        // One event at a time, each recorded (the suite's deliveries replayed one by one).
        async deliverGroup(events: readonly SegmentEvent[]) {
          return [await this.deliver(events[0]!)];
        },
      };
    },
  };
});

// The suite itself, run here with its deliveries recorded.
const here = dirname(fileURLToPath(import.meta.url));
for (const file of readdirSync(here).filter((f) => f.endsWith('.test.ts') && !f.startsWith('mappings')).sort()) {
  await import(pathToFileURL(join(here, file)).href);
}

describe('default mappings are today’s mapping (replay of the destination suite)', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const o of opened) await o.close();
  });

  it('sends exactly the same calls with no mappings and with explicit default mappings', { timeout: 600_000 }, async () => {
    const { createDestination } = await vi.importActual<typeof import('../../src/destination/index.ts')>('../../src/destination/index.ts');
    const { startEmulator } = await import('../../src/emulator/index.ts');
    const { defaultMappings } = await import('../../src/destination/mappings/defaults.ts');
    const { validateMappings } = await import('../../src/destination/mappings/validate.ts');
    const stored = validateMappings(JSON.parse(JSON.stringify(defaultMappings())) as unknown);
    if (!stored.ok) throw new Error(stored.errors.join('; '));
    expect(recorded.length).toBeGreaterThan(200);

    const byInstance = new Map<number, SegmentEvent[]>();
    for (const r of recorded) byInstance.set(r.instance, [...(byInstance.get(r.instance) ?? []), r.event]);
    let compared = 0;
    for (const [instance, events] of byInstance) {
      const { settings, opts } = instances[instance]!;
      const pair = [];
      for (const mappings of [null, stored.mappings]) {
        const emulator = await startEmulator({ port: 0, apiKey: settings.apiKey, secret: settings.sharedSecret, customerId: settings.customerId ?? 'cust' });
        opened.push(emulator);
        const fixedNow = Date.parse('2024-05-01T10:05:00.000Z');
        const { client: _client, sailthru: _port, gate: _gate, identityLinks: _links, ...rest } = opts;
        const destination = createDestination({ ...settings, apiUrl: emulator.url, trackUrl: emulator.url }, { ...rest, now: () => fixedNow, mappings });
        opened.push(destination);
        pair.push({ emulator, destination });
      }
      for (const event of events) {
        const [a, b] = await Promise.all(pair.map(async ({ emulator, destination }) => {
          const since = emulator.lastRequestSeq;
          const outcome = await destination.deliver(structuredClone(event));
          const requests = emulator.requests({ since }).map((r) => ({ method: r.method, path: r.path, payload: r.payload }));
          return { state: outcome.state, reason: 'reason' in outcome ? outcome.reason : null, warnings: outcome.warnings, calls: outcome.calls.map((c) => [c.method, c.endpoint, c.payload]), requests };
        }));
        expect(b, `event ${JSON.stringify(event).slice(0, 200)}`).toEqual(a);
        compared++;
      }
    }
    expect(compared).toBe(recorded.length);
  });

  it('the default mappings choose what route.ts’s switch chose, for every recorded event', async () => {
    const { routeOf } = await import('../../src/destination/route.ts');
    const { DEFAULT_MAPPINGS } = await import('../../src/destination/mappings/defaults.ts');
    const { compileMappings, firstMatch } = await import('../../src/destination/mappings/match.ts');
    const compiled = compileMappings(DEFAULT_MAPPINGS);
    const kinds = new Set<string>();
    for (const { event } of recorded) {
      if (event === null || typeof event !== 'object' || Array.isArray(event)) continue;
      const route = routeOf(event);
      const match = firstMatch(compiled, event);
      const chosen = match === null ? null : match.compiled.action.id === 'drop' ? { skip: match.compiled.map(event).texts.reason } : { action: match.compiled.action.title };
      const expected = 'action' in route ? { action: route.action.name } : 'skip' in route ? { skip: route.skip } : null;
      expect(chosen, JSON.stringify(event).slice(0, 200)).toEqual(expected);
      kinds.add(JSON.stringify(chosen));
    }
    expect(kinds.size).toBeGreaterThanOrEqual(10);
  });
});
