import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { StoredEvent } from '../../src/delivery/store.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/server/logger.ts';
import { startService, type Service } from '../../src/server/service.ts';
import { basic, CREDENTIALS, postJson, stackEnv } from '../e2e/harness.ts';
import { ScriptedSailthru } from './support/scripted-sailthru.ts';

// Attacks on delivery found by an attacker review (issue 15, "Hardening"): whatever answers at
// Sailthru's address is hostile. A real service (ingest over HTTP, SQLite, workers, the Sailthru
// client) delivers to the emulator through a front that answers as each test scripts it.
// docs/reliability.md, "Attacks tried", lists them.

const WRITE_KEY = 'e2e-write-key';
const RETRY_CAP_MS = 5 * 60_000;

let emulator: RunningEmulator;
let front: ScriptedSailthru;
let service: Service;
let dir: string;
const logs: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: CREDENTIALS.apiKey, secret: CREDENTIALS.secret, customerId: CREDENTIALS.customerId });
  front = new ScriptedSailthru(emulator.port);
  await front.start();
  dir = mkdtempSync(join(tmpdir(), 'st-delivery-attacks-'));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const env = stackEnv(front.url, dir, { RETRY_BASE_MS: '50', LOG_LEVEL: 'info' });
  service = await startService(loadConfig(env), { ingest: true, delivery: true }, { logger: createLogger('info', sink) });
});
afterAll(async () => {
  await service?.stop();
  await front?.close();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function post(events: unknown[]): Promise<void> {
  const res = await postJson(`${service.url}/v1/batch`, { batch: events }, basic(WRITE_KEY));
  expect(res.status, res.text).toBe(200);
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function eventOf(messageId: string): Promise<StoredEvent | undefined> {
  const page = await service.store.search({ destinationId: 'default', messageId, limit: 1 });
  return page.events[0];
}

const trackFor = (userId: string, messageId: string) => ({ type: 'track', event: 'Viewed Thing', userId, messageId });

describe('a 429 whose reset is years away', () => {
  it('parks the lane no longer than the backoff cap', async () => {
    const tenYears = Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600;
    front.script = (req) =>
      req.path === '/event' && req.body.includes('rl-years')
        ? {
            status: 429,
            // remaining > 0: the rate gate's own hold (at most 60 s) is not what this test is about.
            headers: { 'x-rate-limit-limit': '2400', 'x-rate-limit-remaining': '5', 'x-rate-limit-reset': String(tenYears) },
            body: JSON.stringify({ error: 43, errormsg: 'Too many requests' }),
          }
        : null;
    try {
      await post([trackFor('rl-years', 'rl-years-1')]);
      const event = await waitFor('the event to be retrying', async () => {
        const e = await eventOf('rl-years-1');
        return e?.status === 'retrying' ? e : null;
      });
      const waitMs = event.nextAttemptAt!.getTime() - Date.now();
      // The cap plus the reset jitter (1 s): not ten years.
      expect(waitMs).toBeLessThanOrEqual(RETRY_CAP_MS + 1_000);
      expect(waitMs).toBeGreaterThan(RETRY_CAP_MS / 2 - 5_000);
      expect(event.lastError).toMatch(/error 43: Too many requests \(HTTP 429\)/);
    } finally {
      front.script = () => null;
    }
  });
});
