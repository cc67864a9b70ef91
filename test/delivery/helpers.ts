import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import type { IngestBatch } from '../../src/delivery/ingest.ts';
import type { Clock, QueuedEvent } from '../../src/delivery/store.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';

/** A clock that moves only when told. */
export class FakeClock implements Clock {
  constructor(public t = Date.parse('2024-03-01T12:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

let seq = 0;
/** A valid track event for user `userId`; messageIds are unique unless given. */
export function trackEvent(userId: string, fields: Partial<SegmentEvent> = {}): SegmentEvent {
  seq += 1;
  return {
    type: 'track',
    messageId: `msg-${process.pid}-${seq}`,
    userId,
    event: 'Thing Happened',
    properties: { n: seq },
    timestamp: '2024-03-01T12:00:00.000Z',
    ...fields,
  };
}

export function batchOf(destinationId: string, accepted: SegmentEvent[], extra: Partial<IngestBatch> = {}): IngestBatch {
  return { destinationId, accepted, rejected: [], receivedAt: new Date(), ...extra };
}

export const SETTINGS: DestinationSettings = {
  apiKey: 'test-api-key',
  sharedSecret: 'test-shared-secret',
  optoutValue: 'none',
    deletionFromEvents: 'signed',
  apiUrl: 'http://127.0.0.1:9',
  trackUrl: 'http://127.0.0.1:9',
};

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls `check` on the event loop until it holds (no timing assertion: vitest's timeout bounds it). */
export async function until(check: () => boolean | Promise<boolean>, stepMs = 5): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, stepMs));
}

/** Deterministic PRNG (mulberry32) so "random" failures replay the same way. */
export { seededRandom as prng } from '../../src/emulator/prng.ts';

/** `payload` as the worker hands it to a destination: at the head of its lane, never tried. */
export function queuedEvent(payload: SegmentEvent, id: number, destinationId = 'main'): QueuedEvent {
  const now = new Date();
  return {
    id,
    destinationId,
    laneKey: payload.userId ?? payload.anonymousId ?? '',
    messageId: payload.messageId,
    type: payload.type,
    eventName: null,
    payload,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: null,
    firstAttemptAt: null,
    lastError: null,
    receivedAt: now,
    updatedAt: now,
    settledAt: null,
    outcome: null,
    droppedBy: null,
    droppedAt: null,
  };
}

/** Settings that send to `emulator` (its credentials; both hosts at its URL), with `extra` over them. */
export function emulatorSettings(emulator: RunningEmulator, extra: Partial<DestinationSettings> = {}): DestinationSettings {
  return {
    apiKey: emulator.credentials.apiKey,
    sharedSecret: emulator.credentials.secret,
    customerId: emulator.credentials.customerId,
    optoutValue: 'none',
    deletionFromEvents: 'signed',
    apiUrl: emulator.url,
    trackUrl: emulator.url,
    ...extra,
  };
}
