import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { createDestination, type Destination, type DestinationOptions } from '../../src/destination/index.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';

export const CREDENTIALS = { apiKey: 'test-api-key', secret: 'test-shared-secret-1234', customerId: 'cust-42' } as const;

export interface Harness {
  emulator: RunningEmulator;
  settings: DestinationSettings;
  destination: Destination;
  /** A destination with other settings against the same emulator (closed by `close`). */
  withSettings(overrides: Partial<DestinationSettings>, opts?: DestinationOptions): Destination;
  /** What Sailthru received since the last call (method, path, decoded payload), in order. */
  received(): Array<{ method: string; path: string; payload: unknown }>;
  /** Marks the request log so `received()` starts from here. */
  mark(): void;
  close(): Promise<void>;
}

export async function startHarness(settings: Partial<DestinationSettings> = {}, opts: DestinationOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({ port: 0, ...CREDENTIALS });
  const base: DestinationSettings = {
    apiKey: CREDENTIALS.apiKey,
    sharedSecret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    optoutValue: 'none',
    deletionFromEvents: 'signed',
    apiUrl: emulator.url,
    trackUrl: emulator.url,
    // These suites check what each event sends; skipping repeated identifies has its own
    // (test/delivery/unchanged-identify.test.ts), and would turn their seed identifies into skips.
    unchangedIdentifyHours: 0,
    ...settings,
  };
  const extra: Destination[] = [];
  let since = emulator.lastRequestSeq;
  const harness: Harness = {
    emulator,
    settings: base,
    destination: createDestination(base, opts),
    withSettings(overrides, o = {}) {
      const d = createDestination({ ...base, ...overrides }, o);
      extra.push(d);
      return d;
    },
    received() {
      const entries = emulator.requests({ since });
      since = emulator.lastRequestSeq;
      return entries.map((e) => ({ method: e.method, path: e.path, payload: e.payload }));
    },
    mark() {
      since = emulator.lastRequestSeq;
    },
    async close() {
      await harness.destination.close();
      for (const d of extra) await d.close();
      await emulator.close();
    },
  };
  return harness;
}

let counter = 0;

/** A normalised event with a fresh messageId and fixed timestamp. */
export function event(fields: Partial<SegmentEvent> & Pick<SegmentEvent, 'type'>): SegmentEvent {
  counter += 1;
  return { messageId: `msg-${counter}-${Math.random().toString(36).slice(2, 8)}`, timestamp: '2024-05-01T10:00:00.000Z', ...fields };
}

/** Seeds the emulator with a profile through the destination itself. */
export async function identifyUser(d: Destination, userId: string, traits: Record<string, unknown> = {}): Promise<void> {
  const outcome = await d.deliver(event({ type: 'identify', userId, traits }));
  if (outcome.state !== 'delivered') throw new Error(`seed identify failed: ${JSON.stringify(outcome)}`);
}
